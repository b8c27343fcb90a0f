"""HTTP clients of the platforms' send APIs (plain ``httpx``: each API is two or three JSON calls, which no
client library would make simpler). ``message_send`` sends one text (or WhatsApp template) and returns the
platform's message id; ``media_download`` fetches a file an incoming message announced.

Errors raise ``TransportError`` with ``retryable`` set for what a later attempt may fix (network, 429, 5xx).

``MessagingTransport`` is the outbound engine's ``messaging`` transport (``settings.OUTBOUND_TRANSPORTS``): the
only way a message leaves for Telegram or WhatsApp.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from atende.messaging.choices import Platform
from atende.messaging.connectors import connector_config, connector_enabled
from atende.messaging.selectors import reply_refusal
from atende.messaging.services.outbound import conversation_attempt_recorded, conversation_row, conversation_sent
from atende.outbound.choices import DeliveryStatus
from atende.outbound.models import Delivery, DeliveryAttempt
from atende.outbound.transports import DeliveryFailed, DeliveryRefused, SendResult, Transport
from atende.tickets.services import IncomingFile

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
TELEGRAM_TEXT_LIMIT = 4096
WHATSAPP_TEXT_LIMIT = 4096


class TransportError(Exception):
    def __init__(self, message: str, *, retryable: bool, status_code: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status_code = status_code


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    parameters: tuple[str, ...] = ()


def _request(method: str, url: str, **kwargs) -> httpx.Response:
    try:
        response = httpx.request(method, url, timeout=TIMEOUT, **kwargs)
    except httpx.HTTPError as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}", retryable=True) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise TransportError(f"HTTP {response.status_code}: {response.text[:300]}", retryable=True,
                             status_code=response.status_code)
    if response.status_code >= 400:
        raise TransportError(f"HTTP {response.status_code}: {response.text[:300]}", retryable=False,
                             status_code=response.status_code)
    return response


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise TransportError(f"not JSON: {response.text[:200]}", retryable=True) from exc
    if not isinstance(data, dict):
        raise TransportError("unexpected answer", retryable=False)
    return data


# --- Telegram Bot API ---------------------------------------------------------------------------------------------

def _telegram_url(method: str) -> str:
    config = connector_config(Platform.TELEGRAM)
    return f"{config['api_base'].rstrip('/')}/bot{config['bot_token']}/{method}"


def telegram_send(*, chat_id: str, text: str) -> str:
    data = _json(_request("POST", _telegram_url("sendMessage"),
                          json={"chat_id": chat_id, "text": text[:TELEGRAM_TEXT_LIMIT]}))
    if not data.get("ok"):
        raise TransportError(f"Telegram: {data.get('description', 'refused')}", retryable=False)
    return f"{chat_id}:{data['result']['message_id']}"


def telegram_download(file_id: str) -> tuple[bytes, str]:
    data = _json(_request("POST", _telegram_url("getFile"), json={"file_id": file_id}))
    path = (data.get("result") or {}).get("file_path")
    if not data.get("ok") or not path:
        raise TransportError(f"Telegram getFile: {data.get('description', 'no file_path')}", retryable=False)
    config = connector_config(Platform.TELEGRAM)
    url = f"{config['api_base'].rstrip('/')}/file/bot{config['bot_token']}/{path}"
    return _request("GET", url).content, path.rsplit("/", 1)[-1]


# --- WhatsApp Cloud API -------------------------------------------------------------------------------------------

def _whatsapp_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {connector_config(Platform.WHATSAPP)['access_token']}"}


def whatsapp_send(*, to: str, text: str = "", template: Template | None = None) -> str:
    config = connector_config(Platform.WHATSAPP)
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to.lstrip("+")}
    if template is not None:
        body |= {"type": "template", "template": {
            "name": template.name, "language": {"code": template.language},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": p}
                                                           for p in template.parameters]}] if template.parameters
            else []}}
    else:
        body |= {"type": "text", "text": {"preview_url": False, "body": text[:WHATSAPP_TEXT_LIMIT]}}
    url = f"{config['api_base'].rstrip('/')}/{config['phone_number_id']}/messages"
    data = _json(_request("POST", url, json=body, headers=_whatsapp_headers()))
    messages = data.get("messages") or []
    if not messages or not messages[0].get("id"):
        raise TransportError("WhatsApp: no message id in the answer", retryable=False)
    return str(messages[0]["id"])


def whatsapp_download(media_id: str) -> tuple[bytes, str]:
    config = connector_config(Platform.WHATSAPP)
    meta = _json(_request("GET", f"{config['api_base'].rstrip('/')}/{media_id}", headers=_whatsapp_headers()))
    if not meta.get("url"):
        raise TransportError("WhatsApp media: no url", retryable=False)
    return _request("GET", meta["url"], headers=_whatsapp_headers()).content, ""


# --- one entry point per direction ----------------------------------------------------------------------------

def message_send(*, platform: str, address: str, text: str = "", template: Template | None = None) -> str:
    if platform == Platform.TELEGRAM:
        return telegram_send(chat_id=address, text=text)
    if platform == Platform.WHATSAPP:
        return whatsapp_send(to=address, text=text, template=template)
    raise TransportError(f"no transport for {platform!r}", retryable=False)


def media_download(*, platform: str, media: dict[str, str]) -> IncomingFile | None:
    download = telegram_download if platform == Platform.TELEGRAM else whatsapp_download
    content, remote_name = download(media["file_id"])
    mime = media.get("mime_type") or ""
    name = media.get("filename") or remote_name or f"{media.get('kind', 'file')}{mimetypes.guess_extension(mime) or ''}"
    return IncomingFile(filename=name, content=content, content_type=mime or mimetypes.guess_type(name)[0] or "")


# --- the outbound engine's transport -----------------------------------------------------------------------------

class MessagingTransport(Transport):
    """Sends one queued message (``payload``: platform, address, text, optional WhatsApp template). A temporary
    failure (network, 429, 5xx) is retried with the engine's backoff; a refusal for good (the platform's 4xx,
    WhatsApp's closed 24-hour window, a connector that is not configured) ends the delivery at once, given up
    with the reason, which the ticket's timeline shows."""

    name = "messaging"
    lease_seconds = 60  # one send is at most a 15-second request

    def send(self, delivery: Delivery) -> SendResult:
        payload = delivery.payload
        platform, row = payload["platform"], conversation_row(delivery)
        if row is not None and row.external_id:  # sent by an attempt whose result was lost: never twice
            return SendResult(external_id=row.external_id)
        if not connector_enabled(platform):
            _refuse(delivery, _("the %(platform)s connector is not configured (see docs/channels.md).")
                    % {"platform": Platform(platform).label})
        template_data = payload.get("template")
        refusal = reply_refusal(row.ticket) if row is not None and not template_data else ""
        if refusal:
            _refuse(delivery, refusal)
        template = Template(name=template_data["name"], language=template_data["language"],
                            parameters=tuple(template_data.get("parameters") or ())) if template_data else None
        try:
            external_id = message_send(platform=platform, address=payload["address"], text=payload.get("text", ""),
                                       template=template)
        except TransportError as exc:
            if not exc.retryable:
                _refuse(delivery, str(exc), status_code=exc.status_code)
            raise DeliveryFailed(str(exc)[:2000], status_code=exc.status_code) from None
        conversation_sent(delivery=delivery, external_id=external_id)
        return SendResult(status_code=200, external_id=external_id)

    def max_attempts(self) -> int:
        return int(getattr(settings, "MESSAGING_OUTBOUND_MAX_ATTEMPTS", 6))

    def retry_base_seconds(self) -> float:
        return float(getattr(settings, "MESSAGING_OUTBOUND_RETRY_BASE_SECONDS", 30))

    def attempt_recorded(self, delivery: Delivery, attempt: DeliveryAttempt) -> None:
        if delivery.status != DeliveryStatus.SENT:
            conversation_attempt_recorded(delivery=delivery, error=delivery.last_error,
                                          given_up=delivery.status == DeliveryStatus.GIVEN_UP)


def _refuse(delivery: Delivery, reason: str, *, status_code: int | None = None) -> None:
    """A refusal no later attempt can change: the engine records it as failed and gives up at once
    (``attempt_recorded`` then puts the reason on the ticket)."""
    raise DeliveryRefused(reason[:2000], status_code=status_code)
