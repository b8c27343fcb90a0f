"""Benchmark-only settings: production settings plus a per-request SQL counter (``X-Query-Count``,
``Server-Timing``). Not part of the product; ``bench/`` is put on ``PYTHONPATH`` by the harness."""

import os

from atende.config.settings.prod import *  # noqa: F403
from atende.config.settings.prod import CACHES as BASE_CACHES
from atende.config.settings.prod import MIDDLEWARE

# Outermost, so the counter sees every query of the request (session, user, the view, the templates).
MIDDLEWARE = ["querycount.QueryCountMiddleware", *MIDDLEWARE]

# Load generators send hundreds of requests a minute from one token; the limit itself is not what is measured.
ATENDE_API_RATE_LIMIT = (0, 60)

if os.environ.get("BENCH_REDIS_URL"):
    # Websocket fan-out crosses processes (the harness commits the change, the server pushes it).
    CHANNEL_LAYERS = {"default": {"BACKEND": "atende.core.redis_layer.WaitingPoolRedisChannelLayer",
                                  "CONFIG": {"hosts": [os.environ["BENCH_REDIS_URL"]],
                                             "prefix": os.environ.get("BENCH_CHANNEL_PREFIX", "atende-bench"),
                                             "capacity": 5000}}}
    CACHES = {"default": {"BACKEND": "atende.core.cache.SharedPoolRedisCache",
                          "LOCATION": os.environ["BENCH_REDIS_URL"], "KEY_PREFIX": "atende-bench"},
              "shared": BASE_CACHES["shared"]}
