"""How many calls the plugin serves at once: the SDK's gRPC worker pool, widened from inside.

`python -m pulumi.dynamic` serves the engine from `grpc.server(futures.ThreadPoolExecutor(
max_workers=4))`, built in its `main()` before any provider code is imported, so at most four
calls run at once whatever the engine's `--parallel`: against an API 100 ms away, creates queue
behind those four. No public API resizes either the server or the pool, and the plugin is
started by the CLI, not by us, so the pool can only be widened once the provider runs.

The mechanism: `configure` runs inside a call, on one of that pool's worker threads. A
`ThreadPoolExecutor` starts each worker as `Thread(target=_worker, args=(weakref(executor),
...))`, and adds a thread, up to `_max_workers`, at a `submit` that finds no idle worker
(`_adjust_thread_count`). So the running thread names its own executor; `_max_workers` is
raised, and the missing threads started at once through `_adjust_thread_count`, as `submit`
would. Raising `_max_workers` alone is not enough: a worker counts itself idle after every call
even when more calls wait in the queue, so while the engine keeps the four busy, `submit` finds
a stale "idle" worker and starts none (measured: still 4 in flight).
This is the cleanest of the ways that work: it asks the thread serving this very call which pool
it belongs to (O(1), and it cannot pick another pool of the process), and relies only on
`concurrent.futures.thread`'s worker layout and the one attribute `_adjust_thread_count` reads;
scanning the heap for executors (`gc.get_objects()`) costs a walk of every object and finds the
same thing; reaching the server through the plugin's `main()` frame (its `server` local, then
gRPC's private `_state.thread_pool`) depends on both the SDK's and gRPC's internals; a
`sitecustomize` or launcher that patches `ThreadPoolExecutor` would change the user's Python, not
ours.

Guarded: the pool is only ever widened, never narrowed (an SDK serving more on its own keeps
its number). When the call does not run where the mechanism expects (the SDK's plugin has
changed shape), the pool is left as the SDK made it and one line on stderr says so;
tests/provider/test_parallel_calls.py fails loudly on such an SDK. Outside the plugin (a test or
a script calling `configure` itself) nothing happens.
"""

from __future__ import annotations

import sys
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import thread as pool_threads
from typing import Final

__all__ = ["PLUGIN_MODULE", "in_plugin", "widen_worker_pool"]

PLUGIN_MODULE: Final = "pulumi.dynamic.__main__"
"""The module the engine runs as `python -m pulumi.dynamic`."""

_warned = False
_warned_lock = threading.Lock()


def in_plugin() -> bool:
    """Whether this process is the SDK's dynamic-provider plugin."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == PLUGIN_MODULE


def widen_worker_pool(parallelism: int) -> int | None:
    """Let the plugin's worker pool run `parallelism` calls at once; returns its new width.

    Call it from a call the plugin is serving (`configure`). None, with one line on stderr when
    in the plugin, when the running thread's pool cannot be found or changed.
    """
    executor = _own_executor()
    if executor is None:
        if in_plugin():
            _say_once(
                "sigsentry: this version of the Pulumi SDK's dynamic-provider plugin does not "
                "serve calls from a thread pool the provider can widen; sigsentry:parallelism "
                "is ignored and the SDK's own limit applies"
            )
        return None
    with executor._shutdown_lock:  # what `submit` holds around `_adjust_thread_count`
        executor._max_workers = max(executor._max_workers, parallelism)
        # Each call starts a thread or uses up one stale idle mark; twice the width ends it.
        for _ in range(2 * executor._max_workers):
            if len(executor._threads) >= executor._max_workers:
                break
            executor._adjust_thread_count()
        return executor._max_workers


def _own_executor() -> ThreadPoolExecutor | None:
    """The `ThreadPoolExecutor` whose worker is the running thread, if it is one."""
    current = threading.current_thread()
    if getattr(current, "_target", None) is not pool_threads._worker:
        return None
    arguments = getattr(current, "_args", ())
    reference = arguments[0] if arguments else None
    executor = reference() if isinstance(reference, weakref.ref) else None
    if not isinstance(executor, ThreadPoolExecutor):
        return None
    # Not `current in executor._threads`: `_adjust_thread_count` adds a thread to it only after
    # starting it, so a new thread's first call may run before it is listed.
    if not isinstance(getattr(executor, "_threads", None), set) or not isinstance(
        getattr(executor, "_max_workers", None), int
    ):
        return None
    if not hasattr(executor, "_shutdown_lock") or not hasattr(executor, "_adjust_thread_count"):
        return None
    return executor


def _say_once(line: str) -> None:
    global _warned
    with _warned_lock:
        if _warned:
            return
        _warned = True
    print(line, file=sys.stderr, flush=True)
