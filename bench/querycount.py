"""Counts the SQL statements and database time of each request and reports them in response headers:
``X-Query-Count: 7`` and ``Server-Timing: app;dur=12.3, db;dur=4.1`` (milliseconds). Benchmarks only."""

import time

from django.db import connections


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        stats = {"count": 0, "seconds": 0.0}

        def counter(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                stats["count"] += 1
                stats["seconds"] += time.perf_counter() - started

        started = time.perf_counter()
        wrappers = [conn.execute_wrapper(counter) for conn in connections.all()]
        for wrapper in wrappers:
            wrapper.__enter__()
        try:
            response = self.get_response(request)
            if hasattr(response, "render") and callable(response.render) and not response.is_rendered:
                response.render()
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        elapsed = time.perf_counter() - started
        response["X-Query-Count"] = str(stats["count"])
        response["Server-Timing"] = f"app;dur={elapsed * 1000:.2f}, db;dur={stats['seconds'] * 1000:.2f}"
        return response
