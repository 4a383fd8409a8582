"""The dynamic-provider plugin's first call: `LogSourceProvider` against a do-nothing provider.

On its first call for a resource, the plugin (`python -m pulumi.dynamic`) unpickles the
`__provider` input, which imports the provider's module, then configures the provider. Every
deployment pays this once per plugin process (a `pulumi preview`, `up`, `refresh`, `destroy`),
even a preview that only runs `check` and `diff`, which need no network.

For each provider, each repetition starts a fresh plugin exactly as the engine does (the CLI's
`pulumi-resource-pulumi-python` launcher, port read from stdout, `GetPluginInfo`, `Configure`
with the stack config; tools/plugin_driver.py, the driver the provider tests use), then times
the gRPC calls alone:

* `check 1`: the first `Check` (unpickling, importing, configuring, then `check` itself);
* `diff 1`: the first `Diff` after it (the provider already loaded);
* `peak MiB`: the plugin's resident-set high-water mark (VmHWM) after those two calls.

`noop` is `_noop_provider.NoopProvider` (benchmarks/, pickled by reference like ours, imports
nothing beyond the SDK); `LogSource` is `sigsentry_pulumi.provider.LogSourceProvider`. The
medians of `--repeat` runs are printed, alternating the two providers so the machine's load hits
both alike. No emulator: `check` and `diff` send no request (the API URL points at a closed port).

Then the same question through the real CLI: `pulumi preview` of an inline program of
`--count` resources (the first deployment of a stack: one Check per resource), LogSource against
the same program over the do-nothing provider (benchmarks/_cli.py). The engine starts the plugin
through a stand-in launcher first on PATH (benchmarks/_rusage_launcher.py) that runs the CLI's
own and records the plugin's peak memory when it exits; the preview's wall time is the whole
command's, as the user waits for it.

    .venv/bin/python benchmarks/plugin_cost.py [--repeat 9] [--count 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCHMARKS))

from _cli import Bench, timed  # noqa: E402
from _noop_provider import NoopProvider  # noqa: E402
from pulumi.dynamic.dynamic import serialize_provider  # noqa: E402

from tools.plugin_driver import ProviderPlugin  # noqa: E402
from tools.pulumi_cli import PulumiEnvironment, find_cli  # noqa: E402

TYPE = "pulumi-python:dynamic/sigsentry:LogSource"
CONFIG = {
    # Nothing listens on port 9: proof that check and diff send no request.
    "sigsentry:apiUrl": "http://127.0.0.1:9",
    "sigsentry:apiKey": "ss_secret_bench_not_a_real_key_000000",
}


@dataclass
class Samples:
    check: list[float] = field(default_factory=list)
    """the first Check's seconds (a whole preview's, through the CLI)"""
    diff: list[float] = field(default_factory=list)
    peak_kib: list[int] = field(default_factory=list)


def inputs(provider: str) -> dict[str, object]:
    """A datadog LogSource's registered inputs, as the engine sends them to Check."""
    return {
        "__provider": provider,
        "type": "datadog",
        "name": "bench-000",
        "credentials": {"apiKey": "bench-credential-a", "appKey": "bench-credential-b"},
        "sources": ["service:bench"],
        "resourceIdentity": "bench/dev/sigsentry:LogSource/bench-000",
    }


def one_run(launcher: Path, env: dict[str, str], provider: str, into: Samples) -> None:
    urn = f"urn:pulumi:dev::bench::{TYPE}::bench-000"
    news = inputs(provider)
    olds = {**news, "isActive": True, "verify": False, "id": "ls_bench", "tenantId": "ten_x"}
    with ProviderPlugin(cwd=BENCHMARKS, env=env, launcher=launcher) as plugin:
        # `GetPluginInfo` then `Configure` with the stack config, as the engine begins
        plugin.plugin_info()
        plugin.configure(CONFIG)
        checked = plugin.check(urn, {}, news)
        if checked.failures:
            raise RuntimeError(f"Check failed: {checked.failures}")
        into.check.append(call_seconds(plugin))
        plugin.diff("ls_bench", urn, olds, news, old_inputs=news)
        into.diff.append(call_seconds(plugin))
        assert plugin.pid is not None
        into.peak_kib.append(peak_rss_kib(plugin.pid))


def call_seconds(plugin: ProviderPlugin) -> float:
    assert plugin.last_call_seconds is not None
    return plugin.last_call_seconds


def peak_rss_kib(pid: int) -> int:
    """The process's resident-set high-water mark so far (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc: Linux only")


def previews(repeat: int, count: int) -> dict[str, Samples]:
    """`pulumi preview` of `count` resources, each provider `repeat` times, alternating."""
    samples = {"noop": Samples(), "LogSource": Samples()}
    with tempfile.TemporaryDirectory(prefix="sigsentry-bench-") as tmp:
        # The Automation API puts the CLI's own folder first on PATH, and the engine prefers a
        # launcher found on PATH: a folder holding a link to the CLI and the stand-in does it.
        real_cli = find_cli()
        folder = Path(tmp) / "cli" / "bin"
        folder.mkdir(parents=True)
        (folder / "pulumi").symlink_to(real_cli)
        stand_in = folder / "pulumi-resource-pulumi-python"
        launcher = BENCHMARKS / "_rusage_launcher.py"
        stand_in.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{launcher}" "$@"\n')
        stand_in.chmod(0o755)
        peaks = Path(tmp) / "peaks"
        bench = Bench(Path(tmp), None, cli=folder / "pulumi")
        bench.env.update(
            SIGSENTRY_BENCH_REAL_LAUNCHER=str(real_cli.parent / stand_in.name),
            SIGSENTRY_BENCH_RUSAGE=str(peaks),
        )
        stacks = {"noop": bench.noop(count, "preview"), "LogSource": bench.ours(count, "preview")}
        for _ in range(repeat):
            for name, stack in stacks.items():
                peaks.write_text("")
                result, seconds = timed(stack.preview)
                assert result.change_summary.get("create") == count + 1, result.change_summary
                samples[name].check.append(seconds)
                samples[name].peak_kib.append(_plugin_peak(peaks))
    return samples


def _plugin_peak(peaks: Path) -> int:
    """The one plugin's peak RSS the stand-in launcher recorded (it writes after the plugin
    exits, which may be just after the CLI does)."""
    deadline = time.monotonic() + 10
    while not (recorded := peaks.read_text().split()) and time.monotonic() < deadline:
        time.sleep(0.05)
    if len(recorded) != 1:
        raise RuntimeError(f"expected one plugin process, the stand-in launcher saw {recorded}")
    return int(recorded[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--count", type=int, default=1, help="resources in the previewed program")
    args = parser.parse_args()

    from sigsentry_pulumi.provider import LogSourceProvider

    providers = {
        "noop": serialize_provider(NoopProvider()),
        "LogSource": serialize_provider(LogSourceProvider()),
    }
    with tempfile.TemporaryDirectory(prefix="sigsentry-bench-") as tmp:
        cli_env = PulumiEnvironment(Path(tmp), cli=find_cli())
        launcher = cli_env.cli.parent / "pulumi-resource-pulumi-python"
        # The plugin imports `_noop_provider` from benchmarks/ (its working folder, on sys.path
        # under `-m`); `sigsentry_pulumi` is installed in the virtualenv.
        env = cli_env.env
        samples = {name: Samples() for name in providers}
        for _ in range(args.repeat):
            for name, provider in providers.items():
                one_run(launcher, env, provider, samples[name])

    print(f"plugin first call: median of {args.repeat} fresh plugins each, {launcher.name}")
    print(f"{'provider':<10} {'check 1 ms':>10} {'diff 1 ms':>10} {'peak MiB':>9}")
    for name, s in samples.items():
        print(
            f"{name:<10} {statistics.median(s.check) * 1000:>10.1f}"
            f" {statistics.median(s.diff) * 1000:>10.1f}"
            f" {statistics.median(s.peak_kib) / 1024:>9.1f}"
        )
    noop, ours = samples["noop"], samples["LogSource"]
    extra_check = statistics.median(ours.check) - statistics.median(noop.check)
    extra_diff = statistics.median(ours.diff) - statistics.median(noop.diff)
    extra_peak = statistics.median(ours.peak_kib) - statistics.median(noop.peak_kib)
    print(
        f"{'extra':<10} {extra_check * 1000:>10.1f} {extra_diff * 1000:>10.1f}"
        f" {extra_peak / 1024:>9.1f}"
    )

    through_cli = previews(args.repeat, args.count)
    print(f"\n`pulumi preview` of {args.count} resource(s), median of {args.repeat} each")
    print(f"{'provider':<10} {'preview s':>10} {'plugin peak MiB':>16}")
    for name, s in through_cli.items():
        print(
            f"{name:<10} {statistics.median(s.check):>10.2f}"
            f" {statistics.median(s.peak_kib) / 1024:>16.1f}"
        )
    noop, ours = through_cli["noop"], through_cli["LogSource"]
    extra_preview = statistics.median(ours.check) - statistics.median(noop.check)
    extra_peak = statistics.median(ours.peak_kib) - statistics.median(noop.peak_kib)
    print(f"{'extra':<10} {extra_preview:>10.2f} {extra_peak / 1024:>16.1f}")


if __name__ == "__main__":
    main()
