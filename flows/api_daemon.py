"""Serves Prefect's API on a loopback port and, when asked to linger, exits after a quiet spell.

Run as `python -m flows.api_daemon PORT IDLE_SECONDS` by flows.api_server. With IDLE_SECONDS 0 it serves
until it is stopped; otherwise it stops itself once no request or event stream has been open for that long,
so a server left behind for the next command never outlives a working session.
"""
from __future__ import annotations

import asyncio
import os
import sys
import time

import uvicorn

WATCH_INTERVAL_S = 1.0


class IdleTracker:
    """An ASGI wrapper that knows when the app last had a request or a websocket open."""

    def __init__(self, app) -> None:
        self.app = app
        self.open = 0
        self.last_active = time.monotonic()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        self.open += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.open -= 1
            self.last_active = time.monotonic()

    def idle_for(self) -> float:
        return 0.0 if self.open else time.monotonic() - self.last_active


async def serve(port: int, idle_seconds: float) -> None:
    from prefect.server.api.server import create_app

    tracker = IdleTracker(create_app())
    server = uvicorn.Server(uvicorn.Config(tracker, host="127.0.0.1", port=port, log_level="error",
                                           lifespan="on"))

    parent = os.getppid()

    async def stop_when_idle() -> None:
        while not server.should_exit:
            await asyncio.sleep(WATCH_INTERVAL_S)
            if tracker.idle_for() > idle_seconds:
                server.should_exit = True

    async def stop_with_parent() -> None:
        # A server that was to stop with its command must not outlive one killed with SIGKILL.
        while not server.should_exit:
            await asyncio.sleep(WATCH_INTERVAL_S)
            if os.getppid() != parent:
                server.should_exit = True

    watchdog = asyncio.create_task(stop_when_idle() if idle_seconds > 0 else stop_with_parent())
    try:
        await server.serve()
    finally:
        watchdog.cancel()


def main(argv: list[str]) -> None:
    # The temporary server serves no UI; Prefect starts its own ephemeral server with the same switches.
    os.environ.update({"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"})
    port, idle_seconds = int(argv[0]), float(argv[1])
    asyncio.run(serve(port, idle_seconds))


if __name__ == "__main__":
    main(sys.argv[1:])
