"""Configuration read once per batch of events: inside a scope a value is loaded once, outside it every time."""

from atende.core.memo import batch_cached, batch_scope


def counting_loader():
    calls = []

    def load():
        calls.append(1)
        return {"value": len(calls)}

    return load, calls


def test_outside_a_scope_every_read_loads_afresh():
    load, calls = counting_loader()
    assert batch_cached("k", load) == {"value": 1}
    assert batch_cached("k", load) == {"value": 2}
    assert len(calls) == 2


def test_inside_a_scope_a_key_is_loaded_once_and_the_next_scope_reads_again():
    load, calls = counting_loader()
    with batch_scope():
        first = batch_cached("k", load)
        assert batch_cached("k", load) is first
        assert batch_cached("other", load) == {"value": 2}  # keys are separate
    assert len(calls) == 2
    with batch_scope():
        assert batch_cached("k", load) == {"value": 3}  # an admin's change shows from the next batch on


def test_nested_scopes_share_the_outer_cache_and_the_outer_end_clears_it():
    load, calls = counting_loader()
    with batch_scope():
        batch_cached("k", load)
        with batch_scope():
            batch_cached("k", load)
        batch_cached("k", load)
    assert len(calls) == 1
    batch_cached("k", load)
    assert len(calls) == 2


def test_a_failing_load_is_not_cached():
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("database went away")
        return "ok"

    with batch_scope():
        try:
            batch_cached("k", flaky)
        except RuntimeError:
            pass
        assert batch_cached("k", flaky) == "ok"
