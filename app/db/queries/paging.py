"""Opaque keyset cursors: the sort key and id of the last row of a page.

A cursor is URL-safe base64 (unpadded) of JSON ``{"s": sort, "v": value, "i": id, "b": branch,
"d": direction}``: the sort it was made for, the sort value and id of a row, whether that row
has a sort value (branch 0) or not (1), and whether the page runs after it (``"n"``) or before
it (``"p"``). Pages make their tokens in SQL (:mod:`app.db.queries.keyset`).
A cursor made for another sort order, or one that does not decode, is refused with a 400
(never silently page 1). Tokens are short (well under :data:`MAX_CURSOR_LENGTH`); anything
longer or outside the base64 alphabet is refused before it is decoded, so a crafted token
cannot make the JSON parser recurse deeply.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from app.domain.errors import BadRequest

#: Longest token accepted; the cursors this service makes are about 100 characters long.
MAX_CURSOR_LENGTH = 512

#: Longest text id of a cursor (collections keyed by text, e.g. an AGS).
MAX_TEXT_ID = 64

#: The tokens :meth:`Cursor.decode` reads (published as the pattern of ``cursor`` parameters).
CURSOR_PATTERN = rf"^[A-Za-z0-9_-]{{1,{MAX_CURSOR_LENGTH}}}$"
_CURSOR = re.compile(CURSOR_PATTERN)


def _malformed() -> BadRequest:
    return BadRequest.for_field("cursor", "malformed paging cursor", "cursor")


@dataclass(frozen=True)
class Cursor:
    """Position after which the next page starts."""

    sort: str
    value: Any
    last_id: int | str
    branch: int = 0
    backward: bool = False

    def encode(self) -> str:
        """The opaque token of this position (as the SQL of a page makes it)."""
        raw = json.dumps({"s": self.sort, "v": self.value, "i": self.last_id,
                          "b": self.branch, "d": "p" if self.backward else "n"},
                         separators=(",", ":"), default=str)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, expected_sort: str) -> Cursor:
        """Read a token; it must have been made for ``expected_sort``.

        >>> Cursor.decode(Cursor("id", None, 7).encode(), "id")
        Cursor(sort='id', value=None, last_id=7, branch=0, backward=False)
        """
        if not _CURSOR.fullmatch(token):
            raise _malformed()
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if not isinstance(data, dict):
                raise TypeError("a cursor is a JSON object")
            value, last_id = data["v"], data["i"]
            if not isinstance(value, str | int | float | None) or isinstance(value, bool):
                raise TypeError("cursor value of an unexpected type")
            if (not isinstance(last_id, int | str) or isinstance(last_id, bool)
                    or (isinstance(last_id, str) and len(last_id) > MAX_TEXT_ID)):
                raise TypeError("cursor id must be an integer or a short text")
            branch, direction = data.get("b", 0), data.get("d", "n")
            if branch not in (0, 1) or isinstance(branch, bool) or direction not in ("n", "p"):
                raise TypeError("cursor branch or direction of an unexpected value")
            cursor = cls(sort=str(data["s"]), value=value, last_id=last_id, branch=branch,
                         backward=direction == "p")
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError,
                OverflowError, RecursionError) as exc:
            raise _malformed() from exc
        if cursor.sort != expected_sort:
            raise BadRequest.for_field(
                "cursor", f"cursor was made for sort {cursor.sort!r}, not {expected_sort!r}",
                "cursor")
        return cursor
