"""Minimal valid rows only. States that result from behaviour (solved, merged…) come from calling services."""

import factory

from atende.accounts.tests.factories import CustomerFactory
from atende.core.actor import Actor
from atende.tickets.models import Category, CustomField, Tag


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag-{n}")


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField

    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"Field {n}")
    kind = "text"


def make_ticket(*, requester=None, actor=None, subject="Printer on fire", body="It is on fire.", **kwargs):
    """A ticket created the way every channel creates one: through ``ticket_create``."""
    from atende.tickets.services import ticket_create

    requester = requester or CustomerFactory()
    actor = actor or Actor.for_user(requester)
    return ticket_create(actor=actor, requester=requester, subject=subject, body_text=body, **kwargs)
