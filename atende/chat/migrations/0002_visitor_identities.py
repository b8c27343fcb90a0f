"""Chat visitors who gave no email were placeholder customers (``visitor-<visitor id>@chat.invalid``, an address
that never receives mail). They become customers without an email, known by a ``chat`` identity whose value is
the visitor id, as new visitors are. Their tickets, messages and conversations stay theirs (the user row is the
same); only the placeholder address and its email identity go."""

import re

from django.db import migrations

PLACEHOLDER = re.compile(r"^visitor-([A-Za-z0-9._:@-]{1,200})@chat\.invalid$")


def placeholders_to_identities(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    ContactIdentity = apps.get_model("accounts", "ContactIdentity")
    for user in User.objects.filter(email__iendswith="@chat.invalid").only("pk", "email").iterator():
        match = PLACEHOLDER.match(user.email or "")
        if match is None:
            continue
        visitor_id = match.group(1)
        taken = ContactIdentity.objects.filter(kind="chat", value=visitor_id).exclude(customer_id=user.pk).exists()
        if taken:  # the visitor id already names someone else: keep the placeholder rather than guess
            continue
        ContactIdentity.objects.filter(customer_id=user.pk, kind="email", value__iexact=user.email).delete()
        ContactIdentity.objects.get_or_create(kind="chat", value=visitor_id, defaults={"customer_id": user.pk})
        User.objects.filter(pk=user.pk).update(email=None, email_verified=False)


def identities_to_placeholders(apps, schema_editor):
    """Back: an email-less customer known by the visitor id of one of their chats gets the placeholder again."""
    User = apps.get_model("accounts", "User")
    ContactIdentity = apps.get_model("accounts", "ContactIdentity")
    ChatSession = apps.get_model("chat", "ChatSession")
    for identity in ContactIdentity.objects.filter(kind="chat", customer__email__isnull=True).iterator():
        if not ChatSession.objects.filter(visitor_id=identity.value, customer_id=identity.customer_id).exists():
            continue
        email = f"visitor-{identity.value}@chat.invalid"
        if len(email) > 254 or User.objects.filter(email__iexact=email).exists():
            continue
        User.objects.filter(pk=identity.customer_id).update(email=email)
        ContactIdentity.objects.get_or_create(kind="email", value=email,
                                              defaults={"customer_id": identity.customer_id, "is_primary": True})


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
        ("accounts", "0002_contact_identities"),
    ]

    operations = [migrations.RunPython(placeholders_to_identities, identities_to_placeholders)]
