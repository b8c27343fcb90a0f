"""The desk model's training: fields the text cannot predict are left out, confidences come from the
out-of-fold scores, and figures on large histories come from a sample."""

import random

import numpy as np
import pytest

from atende.triage.learning import desk_model
from atende.triage.learning.desk_model import NoSignal, cross_validated_figures, train_desk_model

WORDS = {"network": ["vpn", "wifi", "router", "internet"], "billing": ["invoice", "refund", "card", "charged"],
         "access": ["password", "locked", "login", "sign"]}


def _records(n: int, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        team = list(WORDS)[i % 3]
        words = " ".join(rng.choice(WORDS[team]) for _ in range(4))
        records.append({"subject": words, "body": f"hello {words} please help", "channel": "web", "organization": "",
                        "requester": str(rng.randint(1, 30)), "team": team,
                        "urgency": rng.choice(["low", "medium", "high"]),  # drawn at random: nothing to learn
                        "impact": "medium"})
    return records


def test_a_field_drawn_at_random_is_left_out_and_shown_as_such():
    model = train_desk_model(_records(600), ["team", "urgency"])

    assert set(model.heads) == {"team"}
    urgency = model.figures["urgency"]
    assert urgency["no_signal"] is True and urgency["folds"] == 1  # stopped after the first fold
    assert urgency["accuracy"] <= urgency["majority_accuracy"] + desk_model.NO_SIGNAL_MARGIN
    assert urgency["examples"] == 600 and "classes" not in urgency
    team = model.figures["team"]
    assert team["accuracy"] > 0.95 and team["folds"] == desk_model.CV_FOLDS and "no_signal" not in team
    assert team["accuracy"] > team["majority_accuracy"]


def test_a_history_with_nothing_to_learn_raises_no_signal():
    records = _records(300)
    for record in records:
        record["team"] = random.Random(len(record["subject"]) + int(record["requester"])).choice(["a", "b", "c"])
    with pytest.raises(NoSignal):
        train_desk_model(records, ["team", "urgency"])


def test_the_final_fit_reuses_the_out_of_fold_temperature():
    model = train_desk_model(_records(600), ["team"])

    temperature = model.figures["team"]["temperature"]
    assert 0 < temperature and model.heads["team"].top.temperature == temperature
    labels, confidences = model.heads["team"].predict(model.encoder.transform([{"subject": "vpn router", "body": ""}]))
    assert labels == ["network"] and 0.5 < confidences[0] <= 1


def test_large_histories_are_scored_on_a_sample(monkeypatch):
    monkeypatch.setattr(desk_model, "CV_MAX_ROWS", 300)
    seen = []
    original = desk_model.FeatureEncoder.fit_transform

    def spy(self, records):
        seen.append(len(records))
        return original(self, records)

    monkeypatch.setattr(desk_model.FeatureEncoder, "fit_transform", spy)
    figures = cross_validated_figures(_records(900), ["team"])

    assert seen == [200] * desk_model.CV_FOLDS  # two thirds of the 300-row sample in each fold
    assert np.isclose(figures["team"]["accuracy"], 1.0, atol=0.05)
