"""Sum up a write-path trace (``bench/writetrace/sitecustomize.py``) over the creation window: from the first
ticket created to the last batch that handed events to a subscriber.

    python bench/writetrace/summary.py /tmp/trace
"""

from __future__ import annotations

import glob
import json
import sys
from collections import defaultdict

FIELDS = ("d", "handler", "commit", "lock_wait", "held", "after_commit", "n", "commits")


def load(directory: str, role: str) -> list[dict]:
    return [json.loads(line) for path in glob.glob(f"{directory}/{role}-*.jsonl") for line in open(path)]


def main(directory: str) -> None:
    worker, creator = load(directory, "worker"), load(directory, "creator")
    creates = [r for r in creator if r["k"] == "create"]
    start = creates[0]["t"] - creates[0]["d"]
    end = max(r["t"] for r in worker if r["k"] == "batch" and r.get("n") and r["t"] >= start)
    window = [r for r in worker if start <= r["t"] <= end]
    total = lambda rows, key: sum(r.get(key, 0) for r in rows)  # noqa: E731
    print(f"window {end - start:.2f} s, {len(creates)} tickets created in {creates[-1]['t'] - start:.2f} s; "
          f"creator: {total(creates, 'd'):.2f} s, waiting for the lock {total(creates, 'lock_wait'):.2f} s, "
          f"holding it {total(creates, 'held'):.2f} s")
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in window:
        groups[f"batch {r['s']}" if r["k"] == "batch" else r["k"]].append(r)
    print(f"{'':24}{'count':>6}{'empty':>6}" + "".join(f"{f:>13}" for f in FIELDS))
    for name, rows in sorted(groups.items(), key=lambda item: -total(item[1], "d")):
        empty = sum(1 for r in rows if r["k"] == "batch" and not r.get("n"))
        print(f"{name:24}{len(rows):6}{empty:6}" + "".join(f"{total(rows, f):13.2f}" for f in FIELDS))


if __name__ == "__main__":
    main(sys.argv[1])
