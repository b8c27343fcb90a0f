"""Worker tasks of the delivery engine: send one delivery right after its commit, and the periodic drain."""

from django_tasks import task

from atende.outbound.services import deliveries_drain, delivery_send


@task()
def deliveries_send_task(delivery_ids: list[int]) -> list[str | None]:
    """The deliveries one transaction queued, right after its commit (each claimed, so a second worker or the
    periodic drain never sends one twice)."""
    sent = [delivery_send(delivery_id=delivery_id) for delivery_id in delivery_ids]
    return [delivery.status if delivery else None for delivery in sent]


@task()
def delivery_send_task(delivery_id: int) -> str | None:
    """Kept for tasks queued before an upgrade (one task per delivery)."""
    delivery = delivery_send(delivery_id=delivery_id)
    return delivery.status if delivery else None


@task()
def deliveries_drain_task() -> int:
    """Every minute (core/scheduler.py): retries that are due, rows whose worker died, anything not sent."""
    return deliveries_drain()
