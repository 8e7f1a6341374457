"""A real HTTP server on 127.0.0.1 for the feed tests: routes serve fixed bytes or misbehave on purpose
(hang, stall mid-body, stream forever), and every request is logged with its headers so a test
can say what the client sent, or that it never asked for something."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Modes: "normal" (status, headers, body, Content-Length), "no_length" (body then close, no length),
# "hang" (read the request, never answer), "stall_body" (headers and a little body, then silence),
# "lie_length" (a huge Content-Length, a few bytes, then silence), "stream" (chunked, endless).
MODES = {"normal", "no_length", "hang", "stall_body", "lie_length", "stream", "drip"}


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # answered with 304 when the request's If-None-Match matches
    last_modified: str | None = None  # answered with 304 when If-Modified-Since matches exactly
    mode: str = "normal"
    delay_s: float = 0.0  # wait this long before answering (a slow but healthy server)
    # The first requests get these (status, headers) with an empty body, in order; later ones the route.
    before: list[tuple[int, dict[str, str]]] = field(default_factory=list)


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-case names


class FeedServer:
    """ThreadingHTTPServer in a daemon thread on an ephemeral port. `stop()` wakes every handler
    that is sleeping on purpose, so shutdown never waits on a hanging route."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.received: list[Received] = []
        self.sent_bytes: dict[str, int] = {}
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes = b"", **options) -> str:
        """Serve `body` at `path` (options as in Route); returns the full URL."""
        self.routes[path] = Route(body=body, **options)
        assert self.routes[path].mode in MODES
        return self.url(path)

    def hits(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def nap(self, seconds: float) -> bool:
        """Sleep in small steps; False as soon as the server is stopping."""
        return not self.stopping.wait(seconds)


def _handler_for(server: FeedServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep pytest output quiet
            pass

        def do_GET(self) -> None:
            with server.lock:
                server.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}))
                seen = sum(r.path == self.path for r in server.received)
            route = server.routes.get(self.path)
            if route is None:
                return self._plain(404, b"not found")
            if route.delay_s and not server.nap(route.delay_s):
                return None
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up on purpose
                if seen <= len(route.before):
                    return self._scripted(*route.before[seen - 1])
                getattr(self, "_" + route.mode)(route)

        def _plain(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def _scripted(self, status: int, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in {"Content-Length": "0", "Connection": "close", **headers}.items():
                self.send_header(name, value)
            self.end_headers()

        def _head(self, route: Route, status: int | None = None) -> None:
            self.send_response(status or route.status)
            self.send_header("Content-Type", route.content_type)
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.last_modified:
                self.send_header("Last-Modified", route.last_modified)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.send_header("Connection", "close")

        def _not_modified(self, route: Route) -> bool:
            etag_match = route.etag and self.headers.get("If-None-Match") == route.etag
            date_match = route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified
            return bool(etag_match or date_match)

        def _normal(self, route: Route) -> None:
            if self._not_modified(route):
                self._head(route, 304)
                self.end_headers()
                return
            self._head(route)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)
            server.sent_bytes[self.path] = len(route.body)

        def _drip(self, route: Route) -> None:
            """One byte at a time, each just inside any per-read timeout: only a total deadline stops it."""
            self._head(route)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            for byte in route.body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if not server.nap(0.05):
                    return

        def _no_length(self, route: Route) -> None:
            self._head(route)
            self.end_headers()
            self.wfile.write(route.body)
            self.close_connection = True

        def _hang(self, route: Route) -> None:
            while server.nap(0.05) and not self._gone():
                pass

        def _stall_body(self, route: Route) -> None:
            self._head(route)
            self.send_header("Content-Length", str(len(route.body) + 100_000))
            self.end_headers()
            self.wfile.write(route.body)
            self.wfile.flush()
            self._hang(route)

        def _lie_length(self, route: Route) -> None:
            self._head(route)
            self.send_header("Content-Length", str(1024 ** 3))
            self.end_headers()
            self.wfile.write(route.body[:100])
            self.wfile.flush()
            self._hang(route)

        def _stream(self, route: Route) -> None:
            self._head(route)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk, sent = b"<!-- " + b"x" * (64 * 1024) + b" -->\n", 0
            self._chunk(route.body)
            while not server.stopping.is_set() and sent < 256 * 1024 * 1024:
                self._chunk(chunk)
                sent += len(chunk)
                server.sent_bytes[self.path] = sent

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def _gone(self) -> bool:
            """True once the client closed its end (its timeout fired): the handler can stop waiting."""
            self.connection.settimeout(0)
            try:
                return self.connection.recv(1, socket.MSG_PEEK) == b""  # EOF
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:
                return True
            finally:
                self.connection.settimeout(None)

    return Handler
