"""Streamed responses that clean up after themselves once the response ends.

A streamed body holds something until it is sent (an open database cursor, a file written
for the download); the clean-up must run also when the client goes away mid-way, and must
not be cut short when the request is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
from fastapi.responses import StreamingResponse
from starlette.responses import ContentStream
from starlette.types import Receive, Scope, Send


class CleanupStreamingResponse(StreamingResponse):
    """A streamed body followed by ``cleanup`` once the response ends, whether the body was
    sent completely or the client went away (run in a worker thread, shielded from
    cancellation)."""

    def __init__(self, content: ContentStream, cleanup: Callable[[], object],
                 **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._cleanup = cleanup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._cleanup)
