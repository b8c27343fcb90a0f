"""Demo data: every demo customer's address as their primary email identity (the demo creates people in bulk)."""

from atende.accounts.identities import identity_create_primary_email
from atende.accounts.models import ContactIdentity, User


def load_demo() -> dict[str, int]:
    missing = User.objects.filter(role="customer", email__isnull=False).exclude(
        pk__in=ContactIdentity.objects.filter(kind="email", is_primary=True).values("customer_id"))
    count = 0
    for customer in missing.iterator():
        identity_create_primary_email(customer=customer, verified=customer.email_verified)
        count += 1
    return {"email identities": count}
