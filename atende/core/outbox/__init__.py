"""The outbox dispatcher: event rows → subscribers, in batches, with durable cursors, retries and leases.

- ``stream``: reading ids in order without losing rows committed late (gaps and the visibility window);
- ``dispatch``: one batch of one (subscriber, partition), failures, retries, leases;
- ``rounds``: a pass over the units a worker holds, planned first, its batches in one write transaction (SQLite);
- ``worker``: the long-running loop (``atende events work``, and inside ``atende serve``), the task reaper;
- ``drain``: run everything until nothing is left (``atende events drain``, tests, benchmarks);
- ``status``: lag, throughput and parked events (``atende events status``, the admin page, ``/healthz``);
- ``services``: an admin's retry and discard of parked events.
"""
