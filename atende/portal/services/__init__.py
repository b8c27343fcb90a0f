"""Portal writes: sign-up and log-in links, and submitting a request."""

from atende.portal.services.auth import (
    auth_email_enqueue,
    customer_email_mark_verified,
    customer_email_verify,
    customer_sign_up,
    magic_link_consume,
    magic_link_send,
    verification_resend,
)
from atende.portal.services.requests import portal_request_submit

__all__ = [
    "auth_email_enqueue",
    "customer_email_mark_verified",
    "customer_email_verify",
    "customer_sign_up",
    "magic_link_consume",
    "magic_link_send",
    "portal_request_submit",
    "verification_resend",
]
