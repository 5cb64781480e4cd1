"""The HTTP server in front of the app: a cap on open connections and, in loopback mode, the ``Host`` check.

A page on any web site can make the browser send requests to 127.0.0.1 under a name it controls (DNS
rebinding); answering only requests whose ``Host`` names loopback, as Jupyter does, shuts that door.
"""

from __future__ import annotations

from typing import Any

import tornado.httpserver
import tornado.httputil
import tornado.iostream

from .loopback import loopback_host_header


class _RefuseForeignHost(tornado.httputil.HTTPMessageDelegate):
    """Answers 403 to a request whose Host is not loopback (as Jupyter does against DNS rebinding)."""

    TEXT = (b"Blocked request with a non-loopback Host header: this emulator listens on loopback only; "
            b"use http://127.0.0.1:PORT or http://localhost:PORT\n")

    def __init__(self, inner: tornado.httputil.HTTPMessageDelegate, connection: Any):
        self.inner, self.connection, self.refused = inner, connection, False

    def headers_received(self, start_line: Any, headers: tornado.httputil.HTTPHeaders) -> Any:
        host = headers.get("Host")
        if host is None or loopback_host_header(host):
            return self.inner.headers_received(start_line, headers)
        self.refused = True
        self.connection.write_headers(
            tornado.httputil.ResponseStartLine("HTTP/1.1", 403, "Forbidden"),
            tornado.httputil.HTTPHeaders({"Content-Type": "text/plain; charset=utf-8", "Connection": "close",
                                          "Content-Length": str(len(self.TEXT))}), self.TEXT)
        self.connection.finish()
        return None

    def data_received(self, chunk: bytes) -> Any:
        return None if self.refused else self.inner.data_received(chunk)

    def finish(self) -> None:
        if not self.refused:
            self.inner.finish()

    def on_connection_close(self) -> None:
        if not self.refused:
            self.inner.on_connection_close()


class GuardedHTTPServer(tornado.httpserver.HTTPServer):
    """tornado's HTTPServer with a cap on open connections and, in loopback mode, the Host check."""

    def initialize(self, request_callback: Any, *args: Any, max_connections: int = 256,
                   loopback_only: bool = False, **kwargs: Any) -> None:
        super().initialize(request_callback, *args, **kwargs)
        self.max_connections, self.loopback_only = max_connections, loopback_only

    def handle_stream(self, stream: tornado.iostream.IOStream, address: tuple) -> None:
        if len(self._connections) >= self.max_connections:
            stream.close()  # a flood of idle sockets cannot starve the one IOLoop of file descriptors
            return
        super().handle_stream(stream, address)

    def start_request(self, server_conn: object,
                      request_conn: tornado.httputil.HTTPConnection) -> tornado.httputil.HTTPMessageDelegate:
        delegate = super().start_request(server_conn, request_conn)
        return _RefuseForeignHost(delegate, request_conn) if self.loopback_only else delegate
