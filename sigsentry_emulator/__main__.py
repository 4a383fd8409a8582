"""Command line: `python -m sigsentry_emulator --host 127.0.0.1 --port 8787 --db PATH`.

The first line on stdout is always `sigsentry-emulator listening on http://HOST:PORT`, printed once
the socket is bound (so `--port 0` picks a free port and tells you which). With `--demo` the next
lines give a fresh API key and its project id.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import uvicorn

from .app import EmulatorState, create_app
from .backend import DEFAULT_QUOTA, READ, WRITE, Backend
from .crypto import CredentialCipher, EncryptionKeyError
from .ratelimit import DEFAULT_RATE, RateLimiter
from .seed import SeedConfig, SeedFileError, SeedTenant, load_seed_file
from .store import Store

ADMIN_TOKEN_ENV_VAR = "SIGSENTRY_EMULATOR_ADMIN_TOKEN"  # noqa: S105 (a variable name)
DEMO_TENANT = "tnt_demo"
DEMO_PROJECT = "prj_demo"
STOP_GRACE_SECONDS = 10
GC_THRESHOLD = 10_000


def _bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer from `low` to `high` (no upper bound when None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low or (high is not None and value > high):
            wanted = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"{value} is out of range: use {wanted}")
        return value

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="sigsentry-emulator", description="Local emulator of the SigSentry log-source API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_bounded_int(0, 65535), default=8787, help="port; 0 picks a free one"
    )
    parser.add_argument(
        "--db",
        type=Path,
        help="SQLite database file (created if missing); without it, data lives in memory",
    )
    parser.add_argument("--seed", type=Path, help="seed file (TOML or JSON): tenants and keys")
    parser.add_argument(
        "--demo", action="store_true", help="seed tnt_demo/prj_demo and print a new API key"
    )
    parser.add_argument(
        "--quota", type=_bounded_int(0), default=DEFAULT_QUOTA, help="logSourcesPerProject"
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=DEFAULT_RATE,
        help="requests per second per key; 0 = off",
    )
    parser.add_argument("--rate-burst", type=float, help="bucket size (default 2 x rate)")
    parser.add_argument(
        "--admin",
        action="store_true",
        help=f"enable /_admin endpoints; token from ${ADMIN_TOKEN_ENV_VAR}, else generated",
    )
    parser.add_argument(
        "--exit-with-parent",
        type=int,
        metavar="PID",
        help="shut down when process PID exits (test fixtures use this to leave no orphan)",
    )
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    # Parsing a body of 1 MiB can build 200,000 objects, and with the default threshold (700)
    # the collector would run hundreds of times inside that one parse, holding the GIL that the
    # other requests wait for; collections every 10,000 allocations halve that stall.
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    try:
        state = build_state(args)
    except (SeedFileError, EncryptionKeyError, ValueError) as exc:
        raise SystemExit(f"sigsentry-emulator: {exc}") from None
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        raise SystemExit(
            f"sigsentry-emulator: cannot listen on {args.host}:{args.port}: {exc}"
        ) from None
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    print(f"sigsentry-emulator listening on http://{shown_host}:{port}", flush=True)
    if args.demo:
        minted = state.backend.mint_key(
            permissions=[READ, WRITE],
            tenant_id=DEMO_TENANT,
            project_id=DEMO_PROJECT,
            tenant_scoped=False,
        )
        print(f"demo API key: {minted.api_key}", flush=True)
        print(f"demo project id: {minted.project_id}", flush=True)
    if state.admin_token and not os.environ.get(ADMIN_TOKEN_ENV_VAR):
        print(f"admin token: {state.admin_token}", flush=True)
    if args.exit_with_parent:
        watch_parent(args.exit_with_parent)
    serve(state, sock, args.log_level)


def build_state(args: argparse.Namespace) -> EmulatorState:
    if args.db is None:
        store, cipher = Store(":memory:"), CredentialCipher.generate()
    else:
        args.db.parent.mkdir(parents=True, exist_ok=True)
        store, cipher = Store(args.db), CredentialCipher.for_database(args.db)
    limiter = RateLimiter(args.rate_limit, args.rate_burst)
    backend = Backend(store, cipher, quota=args.quota, rate_limiter=limiter)
    backend.check_encryption_key()
    seed = load_seed_file(args.seed) if args.seed else SeedConfig()
    if args.demo:
        seed = SeedConfig(
            tenants=[*seed.tenants, SeedTenant(id=DEMO_TENANT, projects=[DEMO_PROJECT])]
        )
    backend.apply_seed(seed)
    admin_token = None
    if args.admin:
        admin_token = os.environ.get(ADMIN_TOKEN_ENV_VAR) or secrets.token_urlsafe(24)
    state = EmulatorState(backend, admin_token=admin_token)
    state.default_tenant = seed.tenants[0].id if seed.tenants else None
    return state


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not the default 0: asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto says TCP, and without it every response waits ~40 ms on Nagle + delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # lets a restarted emulator take its port back while old connections sit in TIME_WAIT
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    return sock


def serve(state: EmulatorState, sock: socket.socket, log_level: str) -> None:
    config = uvicorn.Config(
        create_app(state),
        log_level=log_level,
        access_log=False,
        lifespan="off",
        http="h11",
        timeout_graceful_shutdown=5,
        date_header=False,  # app.py's EdgeMiddleware stamps each answer's Date itself
    )
    server = uvicorn.Server(config)

    def drop_connection(client: tuple[str, int]) -> bool:
        # uvicorn keeps its live connections here; abort() closes one with an RST, no answer
        for protocol in list(server.server_state.connections):
            if getattr(protocol, "client", None) == client:
                protocol.transport.abort()
                return True
        return False

    state.drop_connection = drop_connection
    server.run(sockets=[sock])


def watch_parent(parent_pid: int) -> None:
    """Exit when `parent_pid` is gone (checked twice a second), so no orphan server lingers."""
    direct_child = os.getppid() == parent_pid

    def parent_alive() -> bool:
        if direct_child and os.getppid() != parent_pid:
            return False  # re-parented: the parent died, even if its pid was reused since
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True

    def watch() -> None:
        while parent_alive():
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(STOP_GRACE_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


if __name__ == "__main__":
    main()
