"""Bounds on an HTTP exchange that requests does not give: a total deadline and a cap on the decoded answer.

requests' ``timeout`` is per socket read, so a server that trickles one byte every 0.4 s never trips it and
holds a call for as long as it likes; and ``response.content`` decompresses a gzip answer without limit (a
600 KB bomb inflates to gigabytes). Here:

- a :class:`Deadline` ends an attempt at a fixed monotonic time by shutting the attempt's socket down from a
  timer thread, which wakes whatever read is blocked on it (status line, headers or body alike);
- :func:`read_body` reads the raw bytes in chunks and decodes gzip/deflate itself with ``max_length``, so no
  more than the cap (plus one chunk) is ever held.
"""

from __future__ import annotations

import socket
import threading
import time
import zlib

import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

READ_CHUNK = 64 * 1024
# We ask for these only; an answer in any other encoding (br, zstd) is refused rather than decoded unbounded.
ACCEPT_ENCODING = "gzip, deflate"

_current = threading.local()


class AnswerTooLarge(Exception):
    """The decoded answer passed the cap it was read under."""


class DeadlinePassed(Exception):
    """The attempt's deadline passed between two chunks (a connection the watchdog could not shut, e.g. a proxy's)."""


class UndecodableAnswer(Exception):
    """The answer's Content-Encoding is not one we asked for, or its compressed bytes are broken."""


class Deadline:
    """A total time limit for one attempt: at ``seconds`` the socket in use is shut down.

    Used as a context manager around the whole attempt (connect, send, headers, body). The connection classes
    below register their socket with the deadline of the thread that uses them; one shared watchdog thread
    ends whatever deadline is due (a thread per call would cost more than the call on a local server).
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Deadline:
        _current.deadline = self
        _WATCHDOG.arm(self)
        return self

    def __exit__(self, *exc) -> None:
        _WATCHDOG.disarm(self)
        _current.deadline = None

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._socket = sock
            expired = self.expired
        if expired:
            _shut(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self._socket
        if sock is not None:
            _shut(sock)


class _Watchdog:
    """One daemon thread that expires the armed deadlines when they are due."""

    def __init__(self):
        self._armed: dict[int, Deadline] = {}
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._sleeping_until = 0.0

    def arm(self, deadline: Deadline) -> None:
        with self._wake:
            self._armed[id(deadline)] = deadline
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="cocalc-magics-deadlines", daemon=True)
                self._thread.start()
            if deadline.at < self._sleeping_until:  # wake it only when it would sleep past this one
                self._wake.notify()

    def disarm(self, deadline: Deadline) -> None:
        with self._wake:
            self._armed.pop(id(deadline), None)

    def _run(self) -> None:
        while True:
            with self._wake:
                now = time.monotonic()
                due = [d for d in self._armed.values() if d.at <= now]
                for deadline in due:
                    del self._armed[id(deadline)]
                if not due:
                    self._sleeping_until = min((d.at for d in self._armed.values()), default=now + 60.0)
                    self._wake.wait(self._sleeping_until - now)
                    self._sleeping_until = 0.0
                    continue
            for deadline in due:
                deadline.expire()


_WATCHDOG = _Watchdog()


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, not SSLSocket's (which would drop its TLS object under a reading thread).
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


def _watch_current(connection) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(getattr(connection, "sock", None))


class _Watched:
    """Registers the connection's socket with the thread's deadline whenever it is used."""

    def connect(self):
        super().connect()
        _watch_current(self)

    def request(self, *args, **kwargs):
        _watch_current(self)  # a pooled keep-alive connection is not connected again
        return super().request(*args, **kwargs)

    def getresponse(self, *args, **kwargs):
        _watch_current(self)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connections whose sockets a :class:`Deadline` can end."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def read_body(raw: urllib3.HTTPResponse, content_encoding: str, limit: int, *, truncate: bool = False,
              deadline: Deadline | None = None) -> bytes:
    """The decoded body, at most ``limit`` bytes: over it, :class:`AnswerTooLarge` (or cut, with ``truncate``)."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        decoder = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        decoder = zlib.decompressobj(32 + zlib.MAX_WBITS)  # 32: accept a gzip or a zlib header
    else:
        raise UndecodableAnswer(f"the answer is in the {encoding[:40]!r} encoding, which was not asked for")
    body = bytearray()
    received = 0
    for chunk in raw.stream(READ_CHUNK, decode_content=False):
        received += len(chunk)
        if deadline is not None and deadline.expired:
            raise DeadlinePassed()
        if decoder is None:
            body += chunk
        else:
            try:
                # max_length bounds what one call may inflate to, whatever the ratio of the input.
                body += decoder.decompress(chunk, limit - len(body) + 1)
            except zlib.error:
                raise UndecodableAnswer(f"the {encoding} answer is not valid compressed data") from None
        if len(body) > limit:
            if truncate:
                return bytes(body[:limit])
            raise AnswerTooLarge()
    if decoder is not None and received and not decoder.eof:
        raise UndecodableAnswer(f"the {encoding} answer is not valid compressed data (it ends part way)")
    return bytes(body)
