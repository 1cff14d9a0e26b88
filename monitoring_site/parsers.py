"""Request parsers that refuse oversized bodies with 413 before reading them.

JSON is parsed with orjson (fast). Text holding a NUL character is refused here, once for every
endpoint: PostgreSQL cannot store it in text or jsonb, and no legitimate telemetry carries one.
"""

import re
from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, MultiPartParser

from monitoring_site.api import PayloadTooLarge
from monitoring_site.errors import ApplicationError

# An escaped NUL (\u0000) that is not itself an escaped backslash followed by "u0000".
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def body_limit() -> int:
    return int(settings.DRIFTWATCH["MAX_BODY_BYTES"])


def _refuse_declared_oversize(parser_context: Any) -> None:
    limit = body_limit()
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body is {int(declared)} bytes; the limit is {limit} bytes.")


def find_nul(value: Any, path: str = "") -> str | None:
    """Path of the first key or string in `value` (in document order) holding a NUL character, or None."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where
        elif isinstance(item, dict):
            if any("\x00" in key for key in item):
                return where or "(object key)"
            # Pushed in reverse, so the first child is looked at first.
            stack.extend((inner, f"{where}.{key}" if where else key) for key, inner in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((inner, f"{where}[{i}]") for i, inner in reversed(list(enumerate(item))))
    return None


class LimitedOrjsonParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        _refuse_declared_oversize(parser_context)
        limit = body_limit()
        # Read one byte past the limit so a body without Content-Length cannot slip through.
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
        if not raw:
            raise ParseError("Request body is empty; a JSON document was expected.")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
        # The byte search is cheap; the walk that names the field runs only when it hits.
        if b"\\u0000" in raw and _ESCAPED_NUL.search(raw):
            where = find_nul(data)
            if where is not None:
                raise ApplicationError(
                    f"'{where or 'body'}' contains a NUL character (\\u0000), which cannot be stored.",
                    errors=[{"field": where, "message": "contains a NUL character (\\u0000)"}],
                )
        return data


class LimitedMultiPartParser(MultiPartParser):
    """Multipart uploads (reference CSV files) under the same body limit as JSON."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        _refuse_declared_oversize(parser_context)
        return super().parse(stream, media_type, parser_context)
