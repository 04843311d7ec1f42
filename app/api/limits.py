"""Refuse request bodies above a configured size with 413 problem+json.

An oversized upload never reaches a handler:

* With a ``Content-Length`` (and no ``Transfer-Encoding``) the length is checked before
  anything is read; the server guarantees the body has exactly that length.
* The body is then read here, counting the bytes (chunked uploads have no length to check
  first), up to the limit. Over it, the 413 is answered here; otherwise the buffered body is
  replayed to the app through a fresh ``receive``. (Raising from inside the app's ``receive``
  does not work: FastAPI wraps such errors into a 400 "There was an error parsing the body".)

Reading the whole body before the app runs also means a slow uploader never holds one of
the admission gate's slots (see :mod:`app.api.admission`, which runs inside this one).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE


class BodySizeLimit:
    """ASGI middleware: 413 for bodies over ``max_bytes``.

    ``uploads`` names path prefixes with a limit of their own (file imports), whose bodies
    are passed on as they arrive instead of being buffered here: they are counted, and one
    that outgrows its limit ends with a 413 before the app sees the rest.
    """

    def __init__(self, app: ASGIApp, max_bytes: int,
                 uploads: tuple[tuple[str, int], ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads

    def _limit(self, path: str) -> tuple[int, bool]:
        for prefix, limit in self.uploads:
            if path.startswith(prefix):
                return limit, True
        return self.max_bytes, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, streamed = self._limit(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        declared = (length is not None and b"transfer-encoding" not in headers
                    and length.strip().isdigit())
        if declared and int(length) > limit:
            await self._refuse(scope, send, limit)
            return
        if streamed:
            await self.app(scope, _counting(receive, limit), send)
            return
        # Read and count the body before the app sees any of it.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client went away mid-body
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, send, self.max_bytes)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        body = json.dumps({
            "type": PROBLEM_TYPE_BASE + "payload-too-large",
            "title": "Payload too large",
            "status": 413,
            "detail": f"request body exceeds the limit of {limit} bytes",
            "instance": scope.get("path", ""),
            "errors": [{"field": "body", "reason": f"larger than {limit} bytes",
                        "code": "too_large"}],
        }).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class UploadTooLarge(Exception):
    """An upload without a declared length outgrew its limit while it arrived."""


def _counting(receive: Receive, limit: int) -> Receive:
    """A ``receive`` that counts the body and raises :class:`UploadTooLarge` past ``limit``
    (the upload route turns it into a 413)."""
    size = 0

    async def counting_receive() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise UploadTooLarge(f"request body exceeds the limit of {limit} bytes")
        return message

    return counting_receive


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields ``body`` as one message, then defers to the server's."""
    pending = True

    async def replay_receive() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay_receive
