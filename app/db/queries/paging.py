"""Opaque keyset cursors: the sort key and id of the last row of a page.

A cursor is URL-safe base64 of compact JSON ``{"s": sort, "v": value, "i": id}``. A cursor
made for another sort order, or one that does not decode, is refused (never silently page 1).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from app.domain.errors import InvalidInput


@dataclass(frozen=True)
class Cursor:
    """Position after which the next page starts."""

    sort: str
    value: Any
    last_id: int

    def encode(self) -> str:
        """The opaque token for a ``next`` link."""
        raw = json.dumps({"s": self.sort, "v": self.value, "i": self.last_id},
                         separators=(",", ":"), default=str)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, expected_sort: str) -> Cursor:
        """Read a token; it must have been made for ``expected_sort``."""
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            value, last_id = data["v"], data["i"]
            if not isinstance(value, str | int | float | None) or isinstance(value, bool):
                raise TypeError("cursor value of an unexpected type")
            if not isinstance(last_id, int) or isinstance(last_id, bool):
                raise TypeError("cursor id must be an integer")
            cursor = cls(sort=str(data["s"]), value=value, last_id=last_id)
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError,
                OverflowError) as exc:
            raise InvalidInput.for_field("cursor", "malformed paging cursor", "cursor") from exc
        if cursor.sort != expected_sort:
            raise InvalidInput.for_field(
                "cursor", f"cursor was made for sort {cursor.sort!r}, not {expected_sort!r}",
                "cursor")
        return cursor
