"""A dynamic provider that writes down every call the engine makes, for checking the engine.

`RecordingProvider` appends one JSON line per call (method, process, process group, thread,
start and end time, and what it was given) to the file named by ``$ENGINE_NOTES_RECORD``. The
plugin process inherits the CLI's environment, so a test names the file there
(`recorded_stack`), and reads it back with `read_calls`.

What a call answers is chosen by keyword arguments (``RecordingProvider(create_sleep=1.0)``),
which are pickled into ``__provider`` with the object, so each resource can behave differently.
The class itself is pickled by reference: the plugin imports this module, which is why
`recorded_stack` puts the folder holding it on the plugin's PYTHONPATH.

Nothing here talks to SigSentry. Values are plaintext by the time they reach a provider, so the
recording file holds test credentials in plain text: it lives in the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import pulumi
from pulumi.dynamic import (
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

RECORD_ENV: Final = "ENGINE_NOTES_RECORD"
PROBE_ENV: Final = "ENGINE_NOTES_PROBE"
PROGRAM_ENV: Final = "ENGINE_NOTES_SET_IN_PROGRAM"
UNKNOWN_MARK: Final = "<unknown>"
PROVIDER_KEY: Final = "__provider"
# Keys a provider adds itself, so a test can tell inputs (check's) from outputs (create's).
CHECK_MARK: Final = "checkedBy"
COMPUTED: Final = "computed"

_write_lock = threading.Lock()


def _plain(value: Any) -> Any:
    """`value` as JSON can hold it: an unknown becomes UNKNOWN_MARK, the provider blob its size."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN):
        return UNKNOWN_MARK
    if isinstance(value, Mapping):
        return {
            str(k): (f"<{len(v)} chars>" if k == PROVIDER_KEY and isinstance(v, str) else _plain(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def _types(values: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): type(v).__name__ for k, v in values.items() if k != PROVIDER_KEY}


def _record(method: str, start: float, **fields: Any) -> None:
    path = os.environ.get(RECORD_ENV)
    if not path:
        return
    entry = {
        "method": method,
        "pid": os.getpid(),
        "pgid": os.getpgid(0),
        "thread": threading.get_ident(),
        "start": start,
        "end": time.time(),
        **{k: _plain(v) for k, v in fields.items()},
    }
    line = json.dumps(entry, default=repr) + "\n"
    with _write_lock, open(path, "a", encoding="utf-8") as out:
        out.write(line)


def _probe(call: Callable[[], Any]) -> Any:
    try:
        return {"value": call()}
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}


def _echo(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != PROVIDER_KEY}


class RecordingProvider(ResourceProvider):
    """Records each call; the keyword arguments choose the answers (see each method)."""

    def __init__(self, **behaviour: Any) -> None:
        super().__init__()
        self.behaviour = behaviour

    def _sleep(self, key: str) -> None:
        seconds = float(self.behaviour.get(key, 0))
        if seconds:
            # real time: a slow call in a real plugin process, for the test to kill the CLI during
            time.sleep(min(seconds, 120.0))

    def configure(self, req: ConfigureRequest) -> None:
        start = time.time()
        _record(
            "configure",
            start,
            config=dict(req.config._props),
            unqualified_secret_a=req.config.get("secretA"),
            get_stack=_probe(pulumi.get_stack),
            pulumi_config=_probe(lambda: pulumi.Config("sigsentry").get("apiUrl")),
            probe_env=os.environ.get(PROBE_ENV),
            program_env=os.environ.get(PROGRAM_ENV),
            cwd=os.getcwd(),
            executable=sys.executable,
            ppid=os.getppid(),
        )

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Echoes `news` plus ``checkedBy``; ``check_sleep`` seconds first; each key named in
        ``check_carry`` that `news` lacks is copied from `olds` (the old inputs) when there."""
        start = time.time()
        self._sleep("check_sleep")
        inputs = {k: v for k, v in news.items() if v is not None}
        inputs[CHECK_MARK] = "check"
        for key in self.behaviour.get("check_carry", ()):
            if inputs.get(key) is None and olds.get(key) is not None:
                inputs[key] = olds[key]
        _record("check", start, olds=olds, news=news, news_types=_types(news))
        return CheckResult(inputs, [])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """``diff``: a dict of DiffResult arguments to answer whatever changed, or "engine" for
        DiffResult() (changes=None); by default the changed input keys, replacing on the keys in
        ``replace_keys``, with ``delete_before_replace`` and ``stables`` passed through."""
        start = time.time()
        _record("diff", start, id=id_, olds=olds, news=news)
        fixed = self.behaviour.get("diff")
        if fixed == "engine":
            return DiffResult()
        if isinstance(fixed, Mapping):
            return DiffResult(**fixed)
        changed = sorted(
            k
            for k, v in news.items()
            if k != PROVIDER_KEY and (v != olds.get(k) or _plain(v) == UNKNOWN_MARK)
        )
        replace_keys = self.behaviour.get("replace_keys", ())
        return DiffResult(
            changes=bool(changed),
            replaces=[k for k in changed if k in replace_keys],
            delete_before_replace=self.behaviour.get("delete_before_replace"),
            stables=self.behaviour.get("stables"),
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Echoes the inputs plus ``computed``; ``create_sleep`` seconds first; ``say`` is
        printed to stdout and stderr; ``id_from`` names the input used as the id;
        ``extra_outputs`` are added; ``wrap_secret`` adds an `Output.secret` output."""
        start = time.time()
        if self.behaviour.get("create_sleep"):
            _record("create-started", start)  # so a test can interrupt the call
        self._sleep("create_sleep")
        if "say" in self.behaviour:
            print(f"stdout: {self.behaviour['say']}")
            print(f"stderr: {self.behaviour['say']}", file=sys.stderr)
        outs = _echo(props)
        outs[COMPUTED] = f"computed-{uuid.uuid4().hex[:8]}"
        outs.update(self.behaviour.get("extra_outputs", {}))
        if self.behaviour.get("wrap_secret"):
            outs["wrapped"] = pulumi.Output.secret("wrapped-value")
        id_key = self.behaviour.get("id_from")
        id_ = str(props[id_key]) if id_key else f"rec-{uuid.uuid4().hex[:12]}"
        _record("create", start, id=id_, props=props, props_types=_types(props), instance=id(self))
        return CreateResult(id_, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Echoes `news`, keeping the old ``computed``."""
        start = time.time()
        outs = _echo(news)
        outs[COMPUTED] = olds.get(COMPUTED)
        _record("update", start, id=id_, olds=olds, news=news)
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        start = time.time()
        self._sleep("delete_sleep")
        _record("delete", start, id=id_, props=props)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """``read``: "echo" (default), "gone" (ReadResult(None, {})), "none" (outs=None), or
        "drift": ``label`` reads back as "drifted", in the outputs and, with
        ``read_inputs``, in the returned inputs too; "outputs-as-inputs": echoes, returning
        the outputs (``computed`` included) as the inputs too."""
        start = time.time()
        _record("read", start, id=id_, props=props)
        mode = self.behaviour.get("read", "echo")
        if mode == "gone":
            return ReadResult(None, {})
        if mode == "none":
            return ReadResult(id_, None)
        outs = _echo(props)
        if mode == "outputs-as-inputs":
            return ReadResult(id_, outs, dict(outs))
        if mode == "drift":
            outs["label"] = "drifted"
            if self.behaviour.get("read_inputs"):
                inputs = {k: v for k, v in outs.items() if k != COMPUTED}
                return ReadResult(id_, outs, inputs)
        return ReadResult(id_, outs)


class Recorded(Resource, module="enginenotes", name="Recorded"):
    """A dynamic resource served by `RecordingProvider`; every prop is an input and an output,
    and ``computed`` is an output too."""

    def __init__(
        self,
        name: str,
        props: Mapping[str, Any],
        provider: ResourceProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        all_props: dict[str, Any] = {COMPUTED: None, "wrapped": None}
        all_props.update(props)
        super().__init__(provider or RecordingProvider(), name, all_props, opts)


def read_calls(path: Path, method: str | None = None) -> list[dict[str, Any]]:
    """The recorded calls, in the order they ended; only `method`'s when given."""
    if not path.exists():
        return []
    calls = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [c for c in calls if method is None or c["method"] == method]


def import_root() -> Path:
    """The folder to put on PYTHONPATH so that this module imports under its current name."""
    depth = len(__name__.split("."))
    return Path(__file__).resolve().parents[depth - 1]
