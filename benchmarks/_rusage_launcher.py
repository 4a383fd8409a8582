"""Stands in for `pulumi-resource-pulumi-python` to learn the plugin's peak memory.

The engine starts this (it comes first on PATH) as it would start the CLI's own launcher; this
runs the real launcher as a child with the same arguments, standard streams and working folder,
waits for it, and appends the child's peak resident set (`wait4`'s ru_maxrss, KiB on Linux) to
the file named by SIGSENTRY_BENCH_RUSAGE. The engine ends a plugin by signalling its process
group (SIGINT, then SIGKILL a second later): this process ignores the signals it can and leaves
the plugin to exit as it would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def main() -> int:
    real, out = os.environ["SIGSENTRY_BENCH_REAL_LAUNCHER"], os.environ["SIGSENTRY_BENCH_RUSAGE"]
    for ignored in (signal.SIGINT, signal.SIGTERM):
        signal.signal(ignored, signal.SIG_IGN)
    child = subprocess.Popen([real, *sys.argv[1:]], preexec_fn=_default_signals)
    _, status, usage = os.wait4(child.pid, 0)
    with open(out, "a") as record:
        record.write(f"{usage.ru_maxrss}\n")
    return os.waitstatus_to_exitcode(status)


def _default_signals() -> None:
    # The plugin must see the engine's SIGINT as it would without this wrapper.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


if __name__ == "__main__":
    sys.exit(main())
