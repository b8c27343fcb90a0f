#!/usr/bin/env python
"""Prediction latency of the desk's triage model, one ticket at a time, as the event subscriber will call it.

    .venv/bin/python bench/triage_predict.py ../shared/data/triage/extra-endava-partial/dev.csv \\
        --subject title --body body --field category=category --field urgency=urgency --field impact=impact

Trains a ``DeskModel`` (the product's model: one encoder, one head per field) on 80% of the rows, saves it and
loads it back from the file as ``atende.triage.predictions`` does, then times ``DeskModel.predict`` on the other
20%, one record per call, after a warm-up. Prints JSON: training seconds, p50/p95/p99/max wall-clock
milliseconds, the same call's CPU milliseconds (p50/p99), and the machine's load average while it ran.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.config.settings.test")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from atende.triage.learning.csvdata import read_labelled_csv  # noqa: E402
from atende.triage.learning.desk_model import load, save, train_desk_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--subject", required=True)
    parser.add_argument("--body", default="")
    parser.add_argument("--requester", default="")
    parser.add_argument("--field", action="append", required=True, help="NAME=COLUMN, e.g. team=assignment_group")
    parser.add_argument("--predictions", type=int, default=1000)
    args = parser.parse_args()
    fields = dict(item.split("=", 1) for item in args.field)
    columns = [c for c in (args.subject, args.body, args.requester, *fields.values()) if c]
    data = read_labelled_csv(args.csv, text_columns=columns, label_column=next(iter(fields.values())))
    records = [{"subject": r.get(args.subject, ""), "body": r.get(args.body, "") if args.body else "",
                "requester": r.get(args.requester, "") if args.requester else "", "channel": "", "organization": "",
                **{name: r[column] for name, column in fields.items()}} for r in data.records]
    random.Random(0).shuffle(records)
    cut = int(len(records) * 0.8)
    train, test = records[:cut], records[cut:]
    started = time.perf_counter()
    model = train_desk_model(train, list(fields), with_figures=False)
    fit_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "model.joblib"
        sha256 = save(model, path)
        size = path.stat().st_size
        model = load(path, sha256=sha256)
    inputs = [{k: r[k] for k in ("subject", "body", "requester", "channel", "organization")} for r in test]
    for record in inputs[:20]:
        model.predict(record)
    timings, cpu = [], []  # wall clock, and this thread's CPU time (what a busy machine's preemption leaves out)
    for i in range(args.predictions):
        record = inputs[i % len(inputs)]
        t0, c0 = time.perf_counter(), time.thread_time()
        model.predict(record)
        cpu.append((time.thread_time() - c0) * 1000)
        timings.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({
        "csv": args.csv, "fields": list(fields), "train_rows": len(train), "fit_seconds": round(fit_seconds, 2),
        "model_file_mb": round(size / 2**20, 1), "predictions": len(timings),
        **{f"predict_ms_{name}": round(float(np.percentile(timings, q)), 3)
           for name, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))},
        **{f"predict_cpu_ms_{name}": round(float(np.percentile(cpu, q)), 3) for name, q in (("p50", 50), ("p99", 99))},
        "load_average_1m": round(os.getloadavg()[0], 1), "cores": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
