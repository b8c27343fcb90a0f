import pytest

from atende.core.actor import Actor
from atende.triage.learning.text import MAX_FIELD_CHARS
from atende.triage.models import TriageModel
from atende.triage.predictions import forget_loaded_model, model_path, predict
from atende.triage.services import NotEnoughHistory, triage_train


def test_training_learns_each_field_and_records_the_model(desk, settings):
    row = triage_train(actor=Actor.system())

    assert row.is_active and row.version == 1 and row.tickets == 120
    assert model_path(row.file_name).is_file()
    assert model_path(row.file_name).parent == settings.TRIAGE_MODEL_DIR
    assert set(row.fields) == {"team", "category", "urgency", "custom:product"}  # impact never varies
    for figures in row.fields.values():
        assert figures["accuracy"] >= 0.9 and figures["examples"] == 120
    assert TriageModel.objects.get().pk == row.pk


def test_suggestions_follow_the_history(desk):
    triage_train(actor=Actor.system())
    teams, categories = desk["teams"], desk["categories"]

    billing = predict({"subject": "Charged twice", "body": "My card was charged twice for the invoice. This is urgent, everything is stopped."})
    network = predict({"subject": "VPN", "body": "The vpn does not connect and wifi keeps dropping."})

    assert billing["team"][0] == teams["Billing"].pk and billing["team"][1] > 0.5
    assert billing["category"][0] == categories["Billing"].pk
    assert billing["custom_fields.product"][0] == "payments"
    assert billing["urgency"][0] == "high"
    assert network["team"][0] == teams["Network"].pk
    assert network["urgency"][0] == "low"
    assert all(0 <= confidence <= 1 for _value, confidence in network.values())


def test_retraining_makes_the_new_model_the_only_active_one(desk):
    first = triage_train(actor=Actor.system())
    second = triage_train(actor=Actor.for_user(desk["agent"]))

    first.refresh_from_db()
    assert (first.is_active, second.is_active, second.version) == (False, True, 2)
    assert second.trained_by == desk["agent"]


def test_too_little_history_trains_nothing_and_says_how_many_are_needed(db, settings):
    from atende.tickets.tests.factories import make_ticket

    make_ticket(subject="VPN down")
    with pytest.raises(NotEnoughHistory) as caught:
        triage_train(actor=Actor.system())

    assert "at least 100 solved or closed tickets" in caught.value.message
    assert "this desk has 0" in caught.value.message
    assert caught.value.details == {"needed": 100, "have": 0}
    assert not TriageModel.objects.exists()
    assert not settings.TRIAGE_MODEL_DIR.exists() or not any(settings.TRIAGE_MODEL_DIR.iterdir())


def test_no_model_means_no_suggestions(db):
    assert predict({"subject": "VPN", "body": "down"}) == {}


@pytest.mark.parametrize("damage", ["truncate", "garbage", "delete", "same_size_flip"])
def test_a_corrupt_or_missing_model_file_gives_no_suggestions_and_logs(desk, caplog, damage):
    row = triage_train(actor=Actor.system())
    path = model_path(row.file_name)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a model at all")
    elif damage == "delete":
        path.unlink()
    else:
        path.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    forget_loaded_model()

    with caplog.at_level("ERROR", logger="atende.triage.predictions"):
        assert predict({"subject": "VPN", "body": "The vpn does not connect."}) == {}
        assert predict({"subject": "VPN", "body": "again"}) == {}

    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and f"model v{row.version} unusable" in errors[0].getMessage()


@pytest.mark.parametrize("ticket_data", [
    {},
    {"subject": "", "body": ""},
    {"subject": None, "body": None, "channel": None, "organization_id": None},
    {"subject": "x" * (MAX_FIELD_CHARS * 50), "body": "vpn " * 100_000},
    {"subject": "\x00\ufeff\u202e", "body": "🙂" * 1000, "channel": "carrier-pigeon", "requester_id": 10 ** 12},
])
def test_odd_tickets_still_get_a_prediction_for_every_learned_field(desk, ticket_data):
    triage_train(actor=Actor.system())

    result = predict(ticket_data)

    assert set(result) == {"team", "category", "urgency", "custom_fields.product"}
