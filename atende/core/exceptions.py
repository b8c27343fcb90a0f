"""Domain errors. Services raise them; pages turn them into messages and the API into JSON errors."""

from typing import Any


class DomainError(Exception):
    """A business rule was broken. ``code`` is stable and machine-readable; ``message`` is for people."""

    code = "invalid"
    status = 400

    def __init__(self, message: str = "", *, code: str | None = None, details: Any = None):
        super().__init__(message)
        self.message = str(message) or self.__class__.__doc__ or self.code
        if code:
            self.code = code
        self.details = details

    def __str__(self) -> str:
        return str(self.message)


class ValidationError(DomainError):
    """Invalid input: a missing required field, an unknown value."""

    code = "validation_error"
    status = 422


class NotFound(DomainError):
    """The object does not exist, or is not visible to the user (never distinguished)."""

    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    """The user may see the object but not do this to it."""

    code = "forbidden"
    status = 403


class Conflict(DomainError):
    """The object changed since it was read, or the operation conflicts with its state."""

    code = "conflict"
    status = 409


def full_clean_or_raise(instance, **kwargs) -> None:
    """``instance.full_clean()``, with Django's form-style error turned into our ``ValidationError`` (422 with the
    per-field messages in ``details``), so a service never leaks a framework exception to pages or the API."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    try:
        instance.full_clean(**kwargs)
    except DjangoValidationError as exc:
        details = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
        summary = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in details.items())
        raise ValidationError(summary or "Invalid data.", details=details) from exc
