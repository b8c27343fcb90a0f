"""Worker tasks of the delivery engine: send one delivery right after its commit, and the periodic drain."""

from django_tasks import task

from atende.outbound.services import deliveries_drain, deliveries_send, delivery_send


@task()
def deliveries_send_task(delivery_ids: list[int]) -> list[str | None]:
    """The deliveries one transaction queued, right after its commit (claimed together, so a second worker or the
    periodic drain never sends one twice; sent per transport in one batch)."""
    rows = deliveries_send(delivery_ids=delivery_ids)
    return [rows[pk].status if pk in rows else None for pk in delivery_ids]


@task()
def delivery_send_task(delivery_id: int) -> str | None:
    """Kept for tasks queued before an upgrade (one task per delivery)."""
    delivery = delivery_send(delivery_id=delivery_id)
    return delivery.status if delivery else None


@task()
def deliveries_drain_task() -> int:
    """Every minute (core/scheduler.py): retries that are due, rows whose worker died, anything not sent."""
    return deliveries_drain()
