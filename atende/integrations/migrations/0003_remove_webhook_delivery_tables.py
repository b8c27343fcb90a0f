from django.db import migrations


class Migration(migrations.Migration):
    """The webhook delivery tables, now empty of anything not copied to the outbound engine (0002)."""

    dependencies = [
        ("integrations", "0002_webhook_deliveries_to_engine"),
    ]

    operations = [
        migrations.DeleteModel(name="WebhookAttempt"),
        migrations.DeleteModel(name="WebhookDelivery"),
    ]
