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

It runs on the user's own machine, so (see ``sandbox`` and the README's security section): project processes
run under bubblewrap; ``exec`` is refused where bubblewrap cannot run unless ``--allow-unsandboxed-exec``;
the emulator drops ``COCALC_*`` and secret-looking variables from its own environment at start; idle,
slow and surplus connections are closed; in loopback mode a request whose ``Host`` is not a loopback name is
refused (DNS rebinding); the data dir is 0700 and its files 0600; expired blobs are purged periodically and
the blob store is capped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import tornado.ioloop
import tornado.netutil

from .app import make_app
from .context import Context
from .errors import TLSSetupError
from .execute import kill_running_commands
from .faults import FaultPlan
from .keys import KeyResolver
from .loopback import is_loopback
from .project_control import ProjectControl
from .sandbox import SANDBOX
from .seed import ensure_seeded, mint_start_keys
from .server import GuardedHTTPServer
from .store import Store
from .tls import make_self_signed, server_context

log = logging.getLogger("cocalc_magics.emulator")

# Variables the emulator drops from its own environment at start: CoCalc's (the user's real key lives in
# COCALC_API_KEY) and anything named like a secret. It needs none of them.
_SECRET_LOOKING = re.compile(r"^COCALC_|KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.IGNORECASE)
BLOB_PURGE_INTERVAL_S = 600


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
    parser.add_argument("--allow-unsandboxed-exec", action="store_true",
                        help="where bubblewrap is missing or cannot run, allow exec and custom latex commands "
                             "anyway (they then run as ordinary processes of your user, seeing all your files)")
    parser.add_argument("--idle-timeout", type=float, default=60.0,
                        help="seconds before a connection that sends no (or no complete) request headers is closed")
    parser.add_argument("--body-timeout", type=float, default=60.0,
                        help="seconds a client has to send a request's whole body")
    parser.add_argument("--max-connections", type=int, default=256,
                        help="open connections at most; more are closed at once (default 256)")
    parser.add_argument("--blob-store-mb", type=float, default=1024.0,
                        help="the blob store's total size cap in MB; the oldest blobs go first (default 1024)")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if args.https and args.tls_cert:
        parser.error("--https makes its own certificate; give either --https or --tls-cert/--tls-key")
    return args


def scrub_own_environment() -> list[str]:
    """Drop CoCalc's and secret-looking variables from this process's environment; the names dropped.

    A process's /proc/<pid>/environ keeps what it was started with, so this is not what protects the key
    from project processes — the sandbox is (own PID namespace, own /proc) — but nothing the emulator
    starts or logs later can pass them on.
    """
    dropped = sorted(name for name in os.environ if _SECRET_LOOKING.search(name))
    for name in dropped:
        del os.environ[name]
    return dropped


def site_url_for(host: str, port: int, scheme: str = "http") -> str:
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"  # a wildcard bind is reachable on loopback too
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def exec_policy(args: argparse.Namespace, local_only: bool, sandboxed: bool) -> tuple[bool, str]:
    """Whether exec and custom latex commands run, and the one-line refusal when they do not."""
    if not (local_only or args.allow_remote_exec):
        return False, (f"the emulator is listening on {args.host}, which is not a loopback address, so it refuses "
                       "to run commands for whoever can reach it; restart it with --allow-remote-exec to allow "
                       "exec and custom latex commands")
    if not (sandboxed or args.allow_unsandboxed_exec):
        return False, ("the emulator cannot sandbox project processes here (bubblewrap is missing or cannot run), "
                       "so it refuses exec and custom latex commands; install bubblewrap, or restart it with "
                       "--allow-unsandboxed-exec to run them as ordinary processes of your user")
    return True, ""


async def serve(args: argparse.Namespace, data_dir: Path) -> None:
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)  # it holds every account's keys and every project's files
    store = Store(data_dir / "emulator.sqlite3")
    local_only = is_loopback(args.host)
    why_unsandboxed = SANDBOX.probe(data_dir)
    if why_unsandboxed:
        log.warning("project processes are NOT sandboxed: %s; LaTeX runs with TeX's own file walls only, and "
                    "exec is %s", why_unsandboxed,
                    "allowed (--allow-unsandboxed-exec)" if args.allow_unsandboxed_exec else "refused")
    allow_exec, exec_refusal = exec_policy(args, local_only, SANDBOX.available)
    control = ProjectControl(store, args.transition_delay, args.project_call_timeout)
    control.recover_after_restart()
    ctx = Context(
        store=store, keys=KeyResolver(store), control=control, data_dir=data_dir,
        allow_exec=allow_exec, exec_refusal=exec_refusal,
        blob_store_max_bytes=int(args.blob_store_mb * 1000 * 1000),
        faults=FaultPlan(control) if args.enable_fault_injection else None,
    )
    if ctx.faults is not None:
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
    # idle_connection_timeout is also tornado's limit for receiving a request's headers.
    server = GuardedHTTPServer(make_app(ctx), max_body_size=1 << 40, ssl_options=ssl_context,
                               idle_connection_timeout=args.idle_timeout, body_timeout=args.body_timeout,
                               max_connections=args.max_connections, loopback_only=local_only)
    server.add_sockets(sockets)
    store.purge_blobs(ctx.blob_store_max_bytes)
    purger = tornado.ioloop.PeriodicCallback(lambda: store.purge_blobs(ctx.blob_store_max_bytes),
                                             BLOB_PURGE_INTERVAL_S * 1000)
    purger.start()

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
    purger.stop()
    server.stop()
    kill_running_commands()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(server.close_all_connections(), 2)
    store.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    dropped = scrub_own_environment()
    if dropped:
        log.info("dropped %d secret-looking variable(s) from the emulator's environment", len(dropped))
    os.umask(0o077)  # the data dir, SQLite (and its -wal/-shm) and project files: this user only
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
