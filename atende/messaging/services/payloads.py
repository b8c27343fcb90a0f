"""The platforms' webhook payloads read into one shape (``Incoming`` messages and ``Receipt``s). Pure parsing:
anything that does not match the documented shape raises ``MalformedPayload`` with the reason.

Shapes: Telegram Bot API ``Update`` (https://core.telegram.org/bots/api#update) and WhatsApp Cloud API webhook
``entry[].changes[].value`` (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from atende.messaging.choices import Platform

TELEGRAM_MEDIA = ("photo", "document", "voice", "audio", "video", "video_note", "animation")
TELEGRAM_OTHER = ("sticker", "location", "contact", "poll", "venue", "dice", "game")
WHATSAPP_MEDIA = ("image", "document", "audio", "video", "sticker")
WHATSAPP_STATES = {"sent", "delivered", "read", "failed"}


class MalformedPayload(ValueError):
    """The body is not the platform's documented shape; ``str()`` says what is wrong."""


@dataclass(frozen=True)
class Media:
    kind: str
    file_id: str
    filename: str = ""
    mime_type: str = ""


@dataclass(frozen=True)
class Incoming:
    platform: str
    identity_kind: str  # the contact identity the sender is known by
    handle: str  # their id on the platform (Telegram user id, WhatsApp wa_id)
    address: str  # where replies go (Telegram chat id, WhatsApp wa_id)
    name: str
    external_id: str  # the platform's message id (deduplication)
    kind: str  # text, photo, document, voice… or what arrived that Atende cannot show
    text: str = ""
    media: tuple[Media, ...] = ()
    sent_at: dt.datetime | None = None
    supported: bool = True


@dataclass(frozen=True)
class Receipt:
    platform: str
    external_id: str
    state: str
    error: str = ""


@dataclass
class Parsed:
    messages: list[Incoming] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)


def _dict(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where} must be an object")
    return value


def _list(value: Any, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{where} must be a list")
    return value


def _str(value: Any, where: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedPayload(f"{where} is missing or not a string/number")
    return str(value).strip()


def _timestamp(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def parse_telegram(update: Any) -> Parsed:
    update = _dict(update, "update")
    if "update_id" not in update:
        raise MalformedPayload("update_id is missing")
    parsed = Parsed()
    message = update.get("message")
    if message is None:  # edited messages, channel posts, callbacks…: nothing for the help desk
        return parsed
    message = _dict(message, "message")
    sender = _dict(message.get("from"), "message.from")
    chat = _dict(message.get("chat"), "message.chat")
    if sender.get("is_bot"):
        return parsed
    user_id, chat_id = _str(sender.get("id"), "message.from.id"), _str(chat.get("id"), "message.chat.id")
    message_id = _str(message.get("message_id"), "message.message_id")
    name = " ".join(p for p in (_str(sender.get("first_name"), "", required=False),
                                _str(sender.get("last_name"), "", required=False)) if p)
    text = _str(message.get("text") or message.get("caption") or "", "message.text", required=False)
    media: list[Media] = []
    kind = "text"
    for media_kind in TELEGRAM_MEDIA:
        item = message.get(media_kind)
        if item is None:
            continue
        kind = media_kind
        if media_kind == "photo":  # several sizes: the largest is last
            sizes = _list(item, "message.photo")
            if not sizes:
                raise MalformedPayload("message.photo is empty")
            item = sizes[-1]
        item = _dict(item, f"message.{media_kind}")
        media.append(Media(kind=media_kind, file_id=_str(item.get("file_id"), f"message.{media_kind}.file_id"),
                           filename=_str(item.get("file_name"), "", required=False),
                           mime_type=_str(item.get("mime_type"), "", required=False)))
        break
    supported = True
    if not media and "text" not in message:
        kind = next((k for k in TELEGRAM_OTHER if k in message), "unknown")
        supported = False
    parsed.messages.append(Incoming(
        platform=Platform.TELEGRAM, identity_kind="telegram", handle=user_id, address=chat_id,
        name=name or _str(sender.get("username"), "", required=False), external_id=f"{chat_id}:{message_id}",
        kind=kind, text=text, media=tuple(media), sent_at=_timestamp(message.get("date")), supported=supported))
    return parsed


def parse_whatsapp(body: Any) -> Parsed:
    body = _dict(body, "body")
    if body.get("object") != "whatsapp_business_account":
        raise MalformedPayload("object must be whatsapp_business_account")
    parsed = Parsed()
    for entry in _list(body.get("entry"), "entry"):
        for change in _list(_dict(entry, "entry[]").get("changes"), "entry[].changes"):
            change = _dict(change, "change")
            if change.get("field") != "messages":
                continue
            value = _dict(change.get("value"), "change.value")
            names = {}
            for contact in _list(value.get("contacts"), "value.contacts"):
                contact = _dict(contact, "contact")
                profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
                names[_str(contact.get("wa_id"), "contact.wa_id")] = _str(profile.get("name"), "", required=False)
            for message in _list(value.get("messages"), "value.messages"):
                parsed.messages.append(_whatsapp_message(_dict(message, "message"), names))
            for status in _list(value.get("statuses"), "value.statuses"):
                status = _dict(status, "status")
                state = _str(status.get("status"), "status.status")
                if state not in WHATSAPP_STATES:
                    continue
                errors = _list(status.get("errors"), "status.errors")
                error = "; ".join(f"{e.get('code', '')} {e.get('title', '')}".strip()
                                  for e in errors if isinstance(e, dict))
                parsed.receipts.append(Receipt(platform=Platform.WHATSAPP,
                                               external_id=_str(status.get("id"), "status.id"), state=state,
                                               error=error))
    return parsed


def _whatsapp_message(message: dict, names: dict[str, str]) -> Incoming:
    wa_id = _str(message.get("from"), "message.from")
    kind = _str(message.get("type"), "message.type")
    text, media, supported = "", [], True
    if kind == "text":
        text = _str(_dict(message.get("text"), "message.text").get("body"), "message.text.body")
    elif kind in WHATSAPP_MEDIA:
        item = _dict(message.get(kind), f"message.{kind}")
        text = _str(item.get("caption"), "", required=False)
        if kind == "audio" and item.get("voice"):
            kind = "voice"
        media.append(Media(kind=kind, file_id=_str(item.get("id"), f"message.{kind}.id"),
                           filename=_str(item.get("filename"), "", required=False),
                           mime_type=_str(item.get("mime_type"), "", required=False)))
    elif kind == "button":
        text = _str(_dict(message.get("button"), "message.button").get("text"), "message.button.text")
    else:
        supported = False
    return Incoming(platform=Platform.WHATSAPP, identity_kind="whatsapp", handle=wa_id, address=wa_id,
                    name=names.get(wa_id, ""), external_id=_str(message.get("id"), "message.id"), kind=kind,
                    text=text, media=tuple(media), sent_at=_timestamp(message.get("timestamp")), supported=supported)
