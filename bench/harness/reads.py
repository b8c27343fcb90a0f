"""Agent reads over HTTP as a logged-in agent: queues (first and deep pages), a saved view, ticket pages,
search, a customer profile, the queue counts every console page loads, and the REST list.

Each measurement is its own function; one whose page does not exist yet (404) is skipped with a note."""

from __future__ import annotations

import random
from collections.abc import Callable
from urllib.parse import quote

import httpx

from harness.common import Config, Skip, log
from harness.httpload import check, next_link, timed


def builtin_queue_keys() -> list[str]:
    try:
        from atende.console.selectors import BUILTIN_QUEUES
    except ImportError as exc:
        raise Skip(f"console queues do not exist yet ({exc})")
    return [q.key for q in BUILTIN_QUEUES]


def deep_url(client: httpx.Client, first: str, pages: int) -> tuple[str, int]:
    """Follow the "next page" links ``pages`` times (or to the last page); returns that URL and its depth."""
    url, depth = first, 0
    for _ in range(pages):
        nxt = next_link(check(client.get(url), f"deep page of {first}").text)
        if not nxt:
            break
        url = nxt if nxt.startswith("/") else first.split("?")[0] + nxt
        depth += 1
    return url, depth


def queues(client: httpx.Client, cfg: Config, out: dict) -> None:
    for key in builtin_queue_keys():
        first = f"/console/?view={key}"
        out[f"queue {key}: first page"] = timed(client, cfg, f"queue {key}: first page", [first])
        url, depth = deep_url(client, first, cfg.deep_pages)
        if depth == 0:
            log(f"  queue {key}: a single page, no deep page to measure")
            continue
        result = timed(client, cfg, f"queue {key}: page {depth + 1}", [url])
        result["depth_pages"] = depth + 1
        out[f"queue {key}: deep page"] = result


def queue_nav(client: httpx.Client, cfg: Config, out: dict) -> None:
    out["queue counts (sidebar, every console page)"] = timed(client, cfg, "queue counts (sidebar)",
                                                              ["/console/queues/nav/"])


def page_with_nav(client: httpx.Client, cfg: Config, out: dict) -> None:
    """What a browser fetches to show the default list: the page, then its sidebar counts (htmx on load)."""
    out["all open: page + sidebar counts"] = timed(client, cfg, "all open: page + sidebar counts",
                                                   ["/console/?view=all_open", "/console/queues/nav/?current=all_open"])


def saved_view(client: httpx.Client, cfg: Config, out: dict, view_id: int, filters: dict) -> None:
    result = timed(client, cfg, "saved view (3 filters): first page", [f"/console/views/{view_id}/"])
    result["filters"] = filters
    out["saved view (3 filters): first page"] = result
    url, depth = deep_url(client, f"/console/views/{view_id}/", min(cfg.deep_pages, 10))
    if depth:
        deep = timed(client, cfg, f"saved view (3 filters): page {depth + 1}", [url])
        deep["depth_pages"] = depth + 1
        out["saved view (3 filters): deep page"] = deep


def ticket_pages(client: httpx.Client, cfg: Config, out: dict, targets: dict) -> None:
    number = targets["long_thread_number"]
    result = timed(client, cfg, f"ticket page, {targets['long_thread_messages']}-message thread",
                   [f"/console/tickets/{number}/"])
    result["messages"] = targets["long_thread_messages"]
    out["ticket page, 50-message thread"] = result
    lo, hi = targets["ticket_id_range"]
    rng = random.Random(7)
    numbers = [rng.randint(lo, hi) for _ in range(cfg.requests + 8)]
    pick: Callable[[int], list[str]] = lambda i: [f"/console/tickets/{numbers[i % len(numbers)]}/"]  # noqa: E731
    out["ticket page, typical (random tickets)"] = timed(client, cfg, "ticket page, random tickets", pick)


def search(client: httpx.Client, cfg: Config, out: dict, targets: dict) -> None:
    for label, query in (("common word", targets["common_word"]), ("rare word", targets["rare_word"]),
                         ("phrase", targets["phrase"]), ("no hits", targets["no_hit_word"])):
        url = f"/console/search?q={quote(query)}"
        result = timed(client, cfg, f"search: {label} ({query})", [url])
        result["query"] = query
        out[f"search: {label}"] = result
        if label == "common word":
            deep, depth = deep_url(client, url, min(cfg.deep_pages, 10))
            if depth:
                result = timed(client, cfg, f"search: common word, page {depth + 1}", [deep])
                result["depth_pages"] = depth + 1
                out["search: common word, deep page"] = result


def customer_profile(client: httpx.Client, cfg: Config, out: dict, targets: dict) -> None:
    result = timed(client, cfg, f"customer profile ({targets['customer_tickets']} tickets)",
                   [f"/console/customers/{targets['customer_id']}/"])
    result["customer_tickets"] = targets["customer_tickets"]
    out["customer profile, 500 tickets"] = result


def api_list(cfg: Config, out: dict, token: str) -> None:
    with httpx.Client(base_url=cfg.base_url, timeout=120) as client:
        headers = {"Authorization": f"Bearer {token}"}
        out["REST API: ticket list, first page"] = timed(client, cfg, "REST API: ticket list", ["/api/v1/tickets"],
                                                         headers=headers)
        url = f"/api/v1/tickets?q={quote(targets_word(out))}"
        out["REST API: search, common word"] = timed(client, cfg, "REST API: search common word", [url],
                                                     headers=headers)


def targets_word(out: dict) -> str:
    return out.get("search: common word", {}).get("query", "cache")


def reports(client: httpx.Client, cfg: Config, out: dict) -> None:
    for label, url in (("reports dashboard, last 30 days", "/reports/?period=30d"),
                       ("reports dashboard, last year", "/reports/?period=365d")):
        out[label] = timed(client, cfg, label, [url])
