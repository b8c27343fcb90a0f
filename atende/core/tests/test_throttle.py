"""The product's throttle: limits, sliding windows, all-or-nothing limits, refusals recorded, on every store."""

import uuid

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from atende.core.models import ThrottleBucket
from atende.core.testing.redis import redis_url_or_skip, unique_prefix
from atende.core.throttle import (
    Rate,
    Throttled,
    client_ip,
    rates,
    throttle_check,
    throttle_hit,
    throttle_or_raise,
    throttle_prune,
    throttle_reset,
)

T0 = 1_800_000_000.0  # a window boundary for every period used here (divisible by 86,400)


@pytest.fixture(params=["database", "cache-locmem", "cache-redis"])
def store(request, settings, db):
    if request.param == "database":
        settings.ATENDE_THROTTLE_STORE = "database"
    else:
        settings.ATENDE_THROTTLE_STORE = "cache"
        if request.param == "cache-redis":
            settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                           "LOCATION": redis_url_or_skip(),
                                           "KEY_PREFIX": unique_prefix("throttle")}}
    return request.param


def scope() -> str:
    return f"test.{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize("text,rate", [("5/15m", Rate(5, 900)), ("1/min", Rate(1, 60)), ("600/60s", Rate(600, 60)),
                                       ("10/day", Rate(10, 86400)), (" 2 / h ", Rate(2, 3600))])
def test_rates_parse(text, rate):
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["", "5", "5/", "x/min", "5/fortnight", "-1/min"])
def test_bad_rates_are_refused(text):
    with pytest.raises(ValueError):
        Rate.parse(text)


def test_configured_rates_are_parsed_once_per_process_and_follow_every_change(settings, monkeypatch):
    parsed = []
    parse = Rate.parse.__func__
    monkeypatch.setattr(Rate, "parse", classmethod(lambda cls, text: parsed.append(text) or parse(cls, text)))
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "test.a": "7/min, 70/day", "test.b": "0/min",
                                      "test.c": [Rate(3, 60), "4/hour"]}
    for _request in range(3):
        assert rates("test.a") == [Rate(7, 60), Rate(70, 86400)]
        assert rates("test.b") == []
    assert parsed == ["7/min", " 70/day", "0/min"]  # each text once, not once per request
    rates("test.a").append(Rate(1, 1))  # a caller's list is its own
    assert rates("test.a") == [Rate(7, 60), Rate(70, 86400)]
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "test.a": "2/min"}  # a changed setting
    assert rates("test.a") == [Rate(2, 60)]
    settings.ATENDE_THROTTLE_RATES["test.b"] = "5/h"  # changed in place
    assert rates("test.b") == [Rate(5, 3600)]
    assert rates("test.c") == [Rate(3, 60), Rate(4, 3600)]
    with pytest.raises(KeyError):
        rates("test.none")


def test_one_a_minute_admits_one_then_refuses_and_records_the_refusal(store):
    name, limits = scope(), [Rate(1, 60)]
    assert throttle_hit(name, "Ana@Example.com", limits, now=T0 + 1).allowed
    refused = throttle_hit(name, "ana@example.com", limits, now=T0 + 2)
    assert not refused.allowed and refused.refused_by == Rate(1, 60)
    assert 58 <= refused.retry_after <= 118
    assert throttle_hit(name, "other@example.com", limits, now=T0 + 3).allowed  # another subject
    row = ThrottleBucket.objects.get(scope=name, subject="ana@example.com", refused__gt=0)
    assert row.refused == 1 and row.last_refused_at is not None


def test_a_burst_across_the_window_boundary_is_not_let_through_twice(store):
    name, limits = scope(), [Rate(1, 60)]
    assert throttle_hit(name, "x", limits, now=T0 + 59.5).allowed
    assert not throttle_hit(name, "x", limits, now=T0 + 60.5).allowed
    assert not throttle_hit(name, "x", limits, now=T0 + 110).allowed
    assert throttle_hit(name, "x", limits, now=T0 + 120).allowed


def test_several_limits_are_all_or_nothing(store):
    name, limits = scope(), [Rate(2, 60), Rate(3, 86400)]
    assert throttle_hit(name, "x", limits, now=T0 + 1).allowed
    assert throttle_hit(name, "x", limits, now=T0 + 2).allowed
    assert not throttle_hit(name, "x", limits, now=T0 + 3).allowed  # the minute is full: the day must not count it
    assert throttle_hit(name, "x", limits, now=T0 + 200).allowed  # the day's third
    refused = throttle_hit(name, "x", limits, now=T0 + 400)
    assert not refused.allowed and refused.refused_by == Rate(3, 86400)


def test_check_counts_nothing_and_reset_forgets(store):
    name, limits = scope(), [Rate(2, 900)]
    assert throttle_check(name, "acct", limits, now=T0 + 1).allowed
    assert throttle_hit(name, "acct", limits, now=T0 + 2).remaining == 1
    assert throttle_hit(name, "acct", limits, now=T0 + 3).remaining == 0
    locked = throttle_check(name, "acct", limits, now=T0 + 4)
    assert not locked.allowed and locked.retry_after > 0
    throttle_reset(name, "acct", limits, now=T0 + 5)
    assert throttle_check(name, "acct", limits, now=T0 + 5).allowed


def test_throttle_or_raise_raises_a_429_domain_error(settings, db):
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "test.raise": "1/hour"}
    throttle_or_raise("test.raise", "k")
    with pytest.raises(Throttled) as caught:
        throttle_or_raise("test.raise", "k", message="Slow down.")
    assert caught.value.status == 429 and caught.value.message == "Slow down."
    assert caught.value.details["retry_after"] >= 1


def test_prune_keeps_refusals_for_a_month(db):
    name, limits = scope(), [Rate(1, 60)]
    throttle_hit(name, "a", limits, now=T0)
    throttle_hit(name, "b", limits, now=T0)
    throttle_hit(name, "b", limits, now=T0 + 1)
    import datetime

    later = datetime.datetime.fromtimestamp(T0 + 3 * 3600, tz=datetime.UTC)
    throttle_prune(now=later)
    assert list(ThrottleBucket.objects.filter(scope=name).values_list("subject", flat=True)) == ["b"]
    throttle_prune(now=later + datetime.timedelta(days=31))
    assert not ThrottleBucket.objects.filter(scope=name).exists()


@pytest.mark.parametrize("remote,key", [("203.0.113.9", "203.0.113.9"), ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
                                        ("::ffff:198.51.100.7", "198.51.100.7"), ("", "unknown")])
def test_client_ip_keys_ipv6_by_its_prefix(rf, remote, key):
    request = rf.get("/", REMOTE_ADDR=remote)
    assert client_ip(request) == key


@hsettings(max_examples=40, deadline=None)
@given(gaps=st.lists(st.floats(min_value=0.0, max_value=90.0, allow_nan=False), min_size=1, max_size=25),
       count=st.integers(min_value=1, max_value=3))
@pytest.mark.django_db
def test_no_sliding_window_admits_more_than_twice_the_limit_and_one_a_period_means_a_period_apart(gaps, count):
    """Property: for any arrival times, every fixed window admits at most ``count``, any sliding window at most
    ``2 × count``, and a limit of one admits attempts at least one period apart."""
    name, limits, period = scope(), [Rate(count, 60)], 60
    now, admitted = T0, []
    for gap in gaps:
        now += gap
        if throttle_hit(name, "x", limits, now=now).allowed:
            admitted.append(now)
    for start in admitted:
        assert sum(1 for t in admitted if start <= t < start + period) <= 2 * count
        aligned = int(start // period) * period
        assert sum(1 for t in admitted if aligned <= t < aligned + period) <= count
    if count == 1:
        assert all(b - a >= period for a, b in zip(admitted, admitted[1:], strict=False))


def test_the_decorator_counts_posts_per_client_ip_and_raises_a_429(rf, settings, db):
    from atende.core.throttle import throttled

    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "test.form": "2/hour"}

    @throttled("test.form")
    def view(request):
        return "ok"

    assert view(rf.get("/", REMOTE_ADDR="203.0.113.1")) == "ok"  # GETs are not counted
    assert view(rf.post("/", REMOTE_ADDR="203.0.113.1")) == "ok"
    assert view(rf.post("/", REMOTE_ADDR="203.0.113.1")) == "ok"
    with pytest.raises(Throttled):
        view(rf.post("/", REMOTE_ADDR="203.0.113.1"))
    assert view(rf.post("/", REMOTE_ADDR="203.0.113.2")) == "ok"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_hits_on_postgresql_admit_exactly_one(settings):
    """Thirty threads, thirty connections, one row: the conditional upsert lets exactly one through."""
    import threading

    from django.db import connection

    settings.ATENDE_THROTTLE_STORE = "database"
    name, limits, results, barrier = scope(), [Rate(1, 60)], [], threading.Barrier(30)

    def hit():
        try:
            barrier.wait()
            results.append(throttle_hit(name, "same@example.com", limits).allowed)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 29 + [True]
    assert sum(ThrottleBucket.objects.filter(scope=name).values_list("refused", flat=True)) == 29
