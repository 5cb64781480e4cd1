"""``python -m cocalc_magics.emulator``: run the local CoCalc API v2 emulator.

When it is listening it prints exactly one JSON line on stdout and flushes::

    {"url": ..., "api_key": ..., "account_id": ..., "email_address": ..., "project_id": ...,
     "second": {"api_key": ..., "account_id": ..., "email_address": ..., "project_id": ...}}

plus ``"ca_file"`` (the certificate to trust) when ``--https`` made a self-signed certificate.
Nothing else goes to stdout; logs go to stderr and never contain an API key.

Test-only switches, both off by default:

- ``--enable-fault-injection`` adds ``/_emulator/faults``, through which a loopback caller makes chosen
  endpoints fail (5xx pages, resets, slow or broken answers, stuck projects); see ``faults``.
- ``--https`` serves HTTPS with a certificate made at start-up (``--tls-cert``/``--tls-key``: your own).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import logging
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import tornado.httpserver
import tornado.netutil

from .app import make_app
from .context import Context
from .execute import kill_running_commands
from .faults import FaultPlan
from .tls import TLSSetupError, make_self_signed, server_context
from .keys import KeyResolver
from .projects import ProjectControl
from .seed import ensure_seeded, mint_start_keys
from .store import Store

log = logging.getLogger("cocalc_magics.emulator")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m cocalc_magics.emulator", description="Local emulator of the CoCalc HTTP API v2.",
        epilog=("Fault injection (tests only): with --enable-fault-injection, POST /_emulator/faults from "
                "loopback, with no credentials, e.g. {\"endpoint\": \"user-query\", \"fault\": \"502\", "
                "\"count\": 1}, {\"project_id\": ID, \"stuck\": \"starting\"} or {\"clear\": true}; "
                "GET it for what is armed and how often each fault fired. Faults: 500, 502, 503, 413, reset, "
                "slow (with \"delay\": seconds), invalid-json, empty-object, truncated."))
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where state lives (SQLite + project directories); default: a temp dir removed on exit")
    parser.add_argument("--transition-delay", type=float, default=0.5,
                        help="seconds a project spends in 'starting' and 'stopping' (default 0.5)")
    parser.add_argument("--allow-remote-exec", action="store_true",
                        help="allow exec and custom latex commands even when listening on a non-loopback address")
    parser.add_argument("--site-url", default=None,
                        help="the siteURL used in the ready line and blob URLs (default http://HOST:PORT)")
    parser.add_argument("--project-call-timeout", type=float, default=60.0,
                        help="seconds the hub waits for a project call, as CoCalc's 60 s (for tests)")
    parser.add_argument("--enable-fault-injection", action="store_true",
                        help="tests only: serve /_emulator/faults (loopback callers), through which endpoints can "
                             "be made to fail; off by default, and then that path is a 404 like any unknown one")
    parser.add_argument("--https", action="store_true",
                        help="serve HTTPS with a self-signed certificate made now into DATA/tls/ (its path is "
                             "\"ca_file\" in the ready line); needs the openssl command")
    parser.add_argument("--tls-cert", type=Path, metavar="FILE", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", type=Path, metavar="FILE", help="the private key of --tls-cert (PEM)")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if args.https and args.tls_cert:
        parser.error("--https makes its own certificate; give either --https or --tls-cert/--tls-key")
    return args


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def site_url_for(host: str, port: int, scheme: str = "http") -> str:
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"  # a wildcard bind is reachable on loopback too
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


async def serve(args: argparse.Namespace, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(data_dir / "emulator.sqlite3")
    local_only = is_loopback(args.host)
    ctx = Context(
        store=store, keys=KeyResolver(store), data_dir=data_dir, transition_delay=args.transition_delay,
        allow_exec=local_only or args.allow_remote_exec,
        exec_refusal=(f"the emulator is listening on {args.host}, which is not a loopback address, so it refuses "
                      "to run commands for whoever can reach it; restart it with --allow-remote-exec to allow "
                      "exec and custom latex commands"),
    )
    ctx.control = ProjectControl(store, args.transition_delay, args.project_call_timeout)
    ctx.control.recover_after_restart()
    if args.enable_fault_injection:
        ctx.faults = FaultPlan(ctx.control)
        log.warning("fault injection is on: loopback callers can make endpoints fail via /_emulator/faults")
    ssl_context, ca_file = None, None
    if args.https:
        cert_file, key_file = make_self_signed(data_dir / "tls", args.host)
        ssl_context, ca_file = server_context(cert_file, key_file), cert_file
    elif args.tls_cert:
        ssl_context = server_context(args.tls_cert, args.tls_key)
    seeded = mint_start_keys(ctx, ensure_seeded(ctx))

    sockets = tornado.netutil.bind_sockets(args.port, address=args.host)
    port = sockets[0].getsockname()[1]
    scheme = "https" if ssl_context else "http"
    ctx.site_url = (args.site_url or site_url_for(args.host, port, scheme)).rstrip("/")
    server = tornado.httpserver.HTTPServer(make_app(ctx), max_body_size=1 << 40, ssl_options=ssl_context)
    server.add_sockets(sockets)

    # Installed before the ready line, so a signal sent right after it is handled.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    first, second = seeded[0], seeded[1]
    ready = {"url": ctx.site_url, **{k: first[k] for k in ("api_key", "account_id", "email_address", "project_id")},
             "second": {k: second[k] for k in ("api_key", "account_id", "email_address", "project_id")},
             **({"ca_file": str(ca_file)} if ca_file else {})}
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    log.info("CoCalc API emulator listening on %s (data in %s)", ctx.site_url, data_dir)

    await stop.wait()
    log.info("shutting down")
    server.stop()
    kill_running_commands()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(server.close_all_connections(), 2)
    store.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="cocalc-emulator-")) if temporary else args.data_dir.resolve()
    try:
        asyncio.run(serve(args, data_dir))
    except KeyboardInterrupt:
        pass
    except TLSSetupError as error:
        log.error("%s", error)
        return 2
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
