"""Serve the rendered leaderboard site over HTTP (loopback by default) with the standard library."""

from __future__ import annotations

import functools
import os
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from optgym.errors import OptgymError


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files from one directory; logs requests only when asked to."""

    verbose = False

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        if self.verbose:
            super().log_message(format, *args)


def make_server(directory: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 8000,
                verbose: bool = False) -> ThreadingHTTPServer:
    """An HTTP server for ``directory`` bound to ``host:port`` (port 0: any free port).

    Call ``serve_forever()`` on it; ``server.server_address`` says the port it got.
    """
    root = Path(directory)
    if not (root / "index.html").is_file():
        raise OptgymError(f"{root}: no index.html to serve; run 'optgym leaderboard render' first")
    handler = type("Handler", (_QuietHandler,), {"verbose": verbose})
    try:
        return ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(root)))
    except OSError as exc:
        raise OptgymError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
