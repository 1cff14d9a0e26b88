"""The one domain exception. Services raise it; the API maps it to a JSON 4xx in one place."""

from typing import Any


class ApplicationError(Exception):
    """A request the service refuses, with a message for people and per-field errors for programs.

    `errors` items are dicts such as ``{"field": "records[3].features.income", "message": "..."}``.
    """

    def __init__(
        self,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        status: int = 400,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.status = status
        self.extra = extra or {}


class NotFound(ApplicationError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        errors = [{"field": field, "message": message}] if field else None
        super().__init__(message, errors=errors, status=404)
