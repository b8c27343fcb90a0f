"""``atende api-token create EMAIL [--scope read|write|admin] [--name …] [--expires-days N]``, ``list``,
``revoke ID``. The secret is printed once."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from atende.accounts.models import User
from atende.api.choices import TokenScope
from atende.api.models import ApiToken
from atende.api.services import api_token_create, api_token_revoke
from atende.core.actor import Actor
from atende.core.exceptions import DomainError


class Command(BaseCommand):
    help = "Create, list or revoke personal API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print its secret (shown once).")
        create.add_argument("email")
        create.add_argument("--scope", choices=TokenScope.values, default=TokenScope.READ)
        create.add_argument("--name", default="Command line")
        create.add_argument("--expires-days", type=int, default=None)
        listing = sub.add_parser("list", help="List tokens (of one person, or everyone's).")
        listing.add_argument("email", nargs="?")
        revoke = sub.add_parser("revoke", help="Revoke a token by id.")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except DomainError as exc:
            raise CommandError(exc.message)

    def _user(self, email: str) -> User:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the address {email}")
        return user

    def _create(self, *, email, scope, name, expires_days, **options):
        user = self._user(email)
        expires_at = timezone.now() + datetime.timedelta(days=expires_days) if expires_days else None
        token, secret = api_token_create(actor=Actor.system(), user=user, name=name, scope=scope,
                                         expires_at=expires_at)
        self.stderr.write(f"Token {token.pk} ({token.scope}) for {user.email}; it will not be shown again:")
        self.stdout.write(secret)

    def _list(self, *, email=None, **options):
        tokens = ApiToken.objects.select_related("user").order_by("user__email", "-created_at")
        if email:
            tokens = tokens.filter(user=self._user(email))
        for token in tokens:
            state = "revoked" if token.revoked_at else ("expired" if token.is_expired() else "active")
            used = token.last_used_at.isoformat() if token.last_used_at else "never"
            self.stdout.write(f"{token.pk}\t{token.user.email}\t{token.name}\t{token.prefix}…\t{token.scope}\t"
                              f"{state}\tlast used {used}")

    def _revoke(self, *, token_id, **options):
        token = ApiToken.objects.filter(pk=token_id).first()
        if token is None:
            raise CommandError(f"No token {token_id}")
        api_token_revoke(actor=Actor.system(), token=token)
        self.stdout.write(f"Token {token_id} revoked.")
