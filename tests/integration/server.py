"""A scriptable local web server for the integration tests.

One `TestWeb` serves several "hosts": each host is its own loopback address
(127.0.0.2, 127.0.0.3, ...) with its own ephemeral port, served by a
`ThreadingHTTPServer` speaking HTTP/1.1 with keep-alive. It binds nothing but
127.0.0.x addresses.

What a host answers, in order of precedence:
  1. a response scripted for that host and path (`script`, `robots`),
  2. a response scripted for that path on every host,
  3. the mounted handlers (`mount`), e.g. a generated site (sitegen.py),
  4. 404.

Every request is recorded in `TestWeb.log` (a `RequestLog`): host, path,
method, start and end times (time.monotonic()), and how many requests to
that host were in flight when it started.

Use it as a context manager, or call start() and stop(); stop() closes every
connection and joins every thread, so a test leaves nothing running.
"""

import dataclasses
import http.server
import socket
import threading
import time
from typing import Callable, Optional, Union

#: Largest number of hosts one TestWeb serves (127.0.0.2 .. 127.0.0.201).
MAX_HOSTS = 200
#: Seconds a keep-alive connection may stay idle before the server drops it.
IDLE_TIMEOUT_S = 30
#: Seconds stop() waits for each server thread.
JOIN_TIMEOUT_S = 10


@dataclasses.dataclass(frozen=True)
class Response:
    """What the server answers to one request.

    `body` is bytes or str (encoded as UTF-8). `delay` is seconds to wait
    before sending anything. `location` sets a Location header (redirects).
    `headers` is a tuple of extra (name, value) pairs.
    """

    status: int = 200
    body: Union[bytes, str] = b""
    content_type: Optional[str] = "text/html; charset=utf-8"
    location: Optional[str] = None
    delay: float = 0.0
    headers: tuple = ()

    def encoded_body(self) -> bytes:
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return self.body


#: A handler maps (host index, request path) to a Response, or None when the
#: path is not its own.
Handler = Callable[[int, str], Optional[Response]]


@dataclasses.dataclass(frozen=True)
class Request:
    """One request as the server saw it (a snapshot).

    `start` is when its headers had been read, `end` when its answer was
    handed to the socket (None while it is being answered, or if it never
    was). Times are time.monotonic().

    `concurrent` counts the requests to the same host in flight when this
    one started, this one included: 1 means it was alone.
    """

    seq: int
    host: int  # index of the host in TestWeb.hosts
    origin: str  # e.g. "http://127.0.0.2:41234"
    method: str
    path: str  # the request target as sent, query string included
    start: float
    end: Optional[float]
    concurrent: int
    status: Optional[int]
    user_agent: Optional[str]

    @property
    def url(self) -> str:
        return self.origin + self.path


class RequestLog:
    """The thread-safe record of every request a TestWeb received."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = []
        self._in_flight = {}  # host index -> requests being answered

    def begin(self, host, origin, method, path, user_agent) -> int:
        """Records the start of a request and returns its sequence number."""
        with self._lock:
            n = self._in_flight.get(host, 0) + 1
            self._in_flight[host] = n
            seq = len(self._entries)
            self._entries.append(Request(
                seq=seq, host=host, origin=origin, method=method, path=path,
                start=time.monotonic(), end=None, concurrent=n, status=None,
                user_agent=user_agent))
            return seq

    def finish(self, seq: int, status: Optional[int]) -> None:
        """Records the end of request `seq` (status None: no answer sent)."""
        with self._lock:
            entry = self._entries[seq]
            self._in_flight[entry.host] -= 1
            self._entries[seq] = dataclasses.replace(
                entry, end=time.monotonic(), status=status)

    def get(self, seq: int) -> Request:
        """A snapshot of request `seq`."""
        with self._lock:
            return self._entries[seq]

    def entries(self) -> list:
        """A snapshot of every request so far, in arrival order."""
        with self._lock:
            return list(self._entries)

    def pages(self, since: int = 0) -> list:
        """The snapshot from request number `since` on, without robots.txt
        requests."""
        return [r for r in self.entries()[since:]
                if r.path != "/robots.txt"]

    def n_pages(self, finished_only: bool = False) -> int:
        """How many non-robots.txt requests arrived (or were answered)."""
        return sum(1 for r in self.pages()
                   if not finished_only or r.end is not None)

    def n_in_flight(self) -> int:
        """How many requests are being answered right now, all hosts."""
        with self._lock:
            return sum(self._in_flight.values())


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers one connection's requests from the TestWeb's scripts."""

    protocol_version = "HTTP/1.1"  # keep-alive, Content-Length always sent
    # Headers and body go out in separate writes: without TCP_NODELAY,
    # Nagle's algorithm and delayed ACKs add ~40 ms to every response.
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_S
    server_version = "crawler-test-server/1"

    def setup(self):
        super().setup()
        self.server.web._track(self.connection, threading.current_thread())
        if self.server.web._stopping.is_set():
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.web._track(self.connection, None)

    def log_message(self, format, *args):  # noqa: A002 - base class name
        pass  # the RequestLog is the log; keep test output quiet

    def do_GET(self):
        self._answer(send_body=True)

    def do_HEAD(self):
        self._answer(send_body=False)

    def do_POST(self):
        self._answer(send_body=True)

    def _answer(self, send_body):
        web = self.server.web
        host = self.server.host_index
        seq = web.log.begin(host, web.origins[host], self.command, self.path,
                            self.headers.get("User-Agent"))
        status = None
        try:
            # Drain a request body so the next request on this connection
            # is read from the right place.
            length = int(self.headers.get("Content-Length") or 0)
            if length > 0:
                self.rfile.read(min(length, 1 << 20))
            resp = web._lookup(host, self.path, seq)
            if resp.delay > 0 and web._stopping.wait(resp.delay):
                self.close_connection = True
                return  # stopping: drop the request unanswered
            body = resp.encoded_body()
            self.send_response(resp.status)  # buffered until end_headers
            if resp.content_type:
                self.send_header("Content-Type", resp.content_type)
            if resp.location is not None:
                self.send_header("Location", resp.location)
            for name, value in resp.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            # The request ends when its answer is handed to the socket: a
            # client may send its next request as soon as it has read it,
            # and that one must not count this one as concurrent.
            status = resp.status
            web.log.finish(seq, status)
            seq = None
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            self.wfile.flush()
        except (ConnectionError, socket.timeout, OSError):
            self.close_connection = True
        finally:
            if seq is not None:
                web.log.finish(seq, status)


class _HostServer(http.server.ThreadingHTTPServer):
    """One host's listening socket; knows its TestWeb and host index."""

    daemon_threads = True  # TestWeb.stop() joins them, with a time limit
    allow_reuse_address = True

    def __init__(self, address, web, host_index):
        self.web = web
        self.host_index = host_index
        super().__init__(address, _Handler)


class TestWeb:
    """Serves `n_hosts` loopback hosts, scripted by the test.

    After start(), `origins[i]` is host i's origin, e.g.
    "http://127.0.0.2:41234", and `hosts[i]` its address.
    """

    __test__ = False  # not a unittest case, whatever its name says

    def __init__(self, n_hosts: int = 1):
        if not 1 <= n_hosts <= MAX_HOSTS:
            raise ValueError(f"n_hosts must be 1..{MAX_HOSTS}: {n_hosts}")
        self.hosts = [f"127.0.0.{2 + i}" for i in range(n_hosts)]
        self.origins = []
        self.log = RequestLog()
        self._lock = threading.Lock()
        self._scripts = {}  # (host index or None, path) -> Response | fn
        self._handlers = []
        self._servers = []
        self._threads = []
        self._connections = {}  # open connection socket -> its thread
        self._stopping = threading.Event()

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> "TestWeb":
        """Binds every host on an ephemeral port and starts serving."""
        if self._servers or self._stopping.is_set():
            raise RuntimeError("a TestWeb starts once")
        try:
            for i, addr in enumerate(self.hosts):
                server = _HostServer((addr, 0), self, i)
                self._servers.append(server)
                self.origins.append(f"http://{addr}:{server.server_port}")
            for server in self._servers:
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"testweb-{server.server_address[0]}", daemon=True)
                thread.start()
                self._threads.append(thread)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops serving, closes every connection and joins every thread.

        Requests waiting out a scripted delay are dropped unanswered.
        """
        self._stopping.set()
        for server, thread in zip(self._servers, self._threads):
            server.shutdown()  # returns once serve_forever has left
            thread.join(JOIN_TIMEOUT_S)
        for server in self._servers:
            server.server_close()
        with self._lock:
            open_connections = list(self._connections.items())
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        for conn, _ in open_connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)  # wakes a blocked reader
            except OSError:
                pass
        for _, thread in open_connections:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._servers.clear()
        self._threads.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- scripting ---------------------------------------------------------

    def origin(self, host: int = 0) -> str:
        """Host `host`'s origin ("http://127.0.0.x:PORT")."""
        return self.origins[host]

    def url(self, path: str, host: int = 0) -> str:
        """The absolute URL of `path` on host `host`."""
        return self.origins[host] + path

    def script(self, path: str, response, host: Optional[int] = None):
        """Answers `path` (request target, query included) with `response`
        on host `host`, or on every host when `host` is None.

        `response` is a Response or a function of the Request returning one
        (for behaviour that changes from one request to the next).
        """
        with self._lock:
            self._scripts[(host, path)] = response

    def robots(self, text: str = "", status: int = 200,
               host: Optional[int] = None, delay: float = 0.0):
        """Serves robots.txt with `status` and `text` on one or every host."""
        self.script("/robots.txt",
                    Response(status=status, body=text, delay=delay,
                             content_type="text/plain"), host)

    def mount(self, handler: Handler) -> None:
        """Adds a fallback handler, asked for paths nobody scripted."""
        with self._lock:
            self._handlers.append(handler)

    # -- internals ---------------------------------------------------------

    def _lookup(self, host: int, path: str, seq: int) -> Response:
        with self._lock:
            scripted = self._scripts.get((host, path))
            if scripted is None:
                scripted = self._scripts.get((None, path))
            handlers = list(self._handlers)
        if scripted is not None:
            if callable(scripted):
                return scripted(self.log.get(seq))
            return scripted
        for handler in handlers:
            resp = handler(host, path)
            if resp is not None:
                return resp
        return Response(status=404, body="<html><body>not found</body></html>")

    def _track(self, conn, thread) -> None:
        """Registers an open connection and the thread serving it, or
        forgets it (thread None)."""
        with self._lock:
            if thread is not None:
                self._connections[conn] = thread
            else:
                self._connections.pop(conn, None)
