"""Render an operation's steps and outputs the way the Pulumi CLI prints them.

Used by ``make demo`` and handy in users' own tests: the text is what ``pulumi preview`` /
``pulumi up`` / ``pulumi refresh`` / ``pulumi destroy`` show, built from the stand-in's
:class:`~sigsentry_pulumi.testing.OperationResult`::

    Updating (dev)

         Type                                       Name             Status   Info
     +   pulumi-python:dynamic/sigsentry:LogSource  prod-cloudwatch  created

    Outputs:
        credentials  : [secret]
        log_source_id: "ls_6f1c0d1e-..."

    Resources:
        + 1 created

Secret values (:class:`Secret` marks, the SDK's secret wrappers) print as ``[secret]`` wherever
they sit, and values not known yet (preview) as ``output<string>``.

Not reproduced: the root ``pulumi:pulumi:Stack`` row and the resource tree (the stand-in records
no stack resource, so counts cover log sources and other custom resources only), colours, the
live progress display, ``--diff`` property details, and per-resource durations.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from pulumi.runtime import rpc

from sigsentry_pulumi.testing.values import Secret, is_unknown

__all__ = ["format_value", "render", "render_outputs", "render_summary"]

_MASKED = "[secret]"
_UNKNOWN = "output<string>"
_INDENT = "    "

# The symbol Pulumi prints before a resource for each step, and the order of its summary lines.
_SYMBOLS = {
    "create": "+",
    "update": "~",
    "replace": "+-",
    "delete": "-",
    "delete-replaced": "--",
    "read": ">",
    "refresh": "~",
    "same": " ",
}
_PLANNED = {
    "create": "create",
    "update": "update",
    "replace": "replace",
    "delete": "delete",
    "delete-replaced": "delete original",
    "read": "read",
    "refresh": "refresh",
    "same": "",
}
_DONE = {
    "create": "created",
    "update": "updated",
    "replace": "replaced",
    "delete": "deleted",
    "delete-replaced": "deleted original",
    "read": "read",
    "refresh": "refreshed",
    "same": "",
}
_HEADINGS = {
    "preview": "Previewing update",
    "up": "Updating",
    "refresh": "Refreshing",
    "destroy": "Destroying",
}


class StepLike(Protocol):
    """What the renderer reads of a step (``sigsentry_pulumi.testing.Step`` fits)."""

    @property
    def op(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def changed_keys(self) -> Sequence[str]: ...
    @property
    def replace_keys(self) -> Sequence[str]: ...


class ResultLike(Protocol):
    """What the renderer reads of an operation result (``OperationResult`` fits)."""

    @property
    def operation(self) -> str: ...
    @property
    def steps(self) -> Sequence[StepLike]: ...
    @property
    def outputs(self) -> Mapping[str, Any]: ...
    @property
    def policy_violations(self) -> Sequence[Any]: ...


def render(result: ResultLike, *, stack: str = "dev", duration: float | None = None) -> str:
    """The whole block Pulumi prints for one operation: heading, steps, outputs, summary."""
    planning = result.operation == "preview"
    heading = _HEADINGS.get(result.operation, result.operation.capitalize())
    parts = [f"{heading} ({stack})", "", _render_steps(result.steps, planning=planning)]
    if result.policy_violations:
        parts += ["", "Policy Violations:", *(f"{_INDENT}{v}" for v in result.policy_violations)]
    if result.outputs and result.operation != "destroy":
        parts += ["", render_outputs(result.outputs)]
    parts += ["", render_summary(result.steps, planning=planning)]
    if duration is not None:
        parts += ["", f"Duration: {duration:.1f}s"]
    return "\n".join(parts) + "\n"


def render_outputs(outputs: Mapping[str, Any]) -> str:
    """``Outputs:`` with keys sorted and padded so the values line up, as Pulumi aligns them."""
    width = max((len(key) for key in outputs), default=0)
    lines = ["Outputs:"]
    for key in sorted(outputs):
        value = format_value(outputs[key], indent=_INDENT)
        lines.append(f"{_INDENT}{key.ljust(width)}: {value}")
    return "\n".join(lines)


def render_summary(steps: Iterable[StepLike], *, planning: bool) -> str:
    """``Resources:`` with one count line per kind of change, then the unchanged count."""
    counts = Counter(step.op for step in steps)
    words = _PLANNED if planning else _DONE
    lines = ["Resources:"]
    for op in ("create", "update", "replace", "delete", "read", "refresh"):
        if counts[op]:
            verb = f"to {words[op]}" if planning else words[op]
            lines.append(f"{_INDENT}{_SYMBOLS[op].ljust(2)}{counts[op]} {verb}")
    if counts["same"]:
        lines.append(f"{_INDENT}{counts['same']} unchanged")
    if len(lines) == 1:
        lines.append(f"{_INDENT}0 resources")
    return "\n".join(lines)


def format_value(value: Any, *, indent: str = "") -> str:
    """One value as Pulumi prints it: strings quoted, objects as ``{ key: value }`` blocks."""
    if isinstance(value, Secret) or rpc.is_rpc_secret(value):
        return _MASKED
    if is_unknown(value):
        return _UNKNOWN
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        inner = indent + _INDENT
        width = max(len(str(key)) for key in value)
        rows = [
            f"{inner}{str(key).ljust(width)}: {format_value(item, indent=inner)}"
            for key, item in sorted(value.items(), key=lambda kv: str(kv[0]))
        ]
        return "{\n" + "\n".join(rows) + f"\n{indent}}}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = indent + _INDENT
        rows = [f"{inner}[{i}]: {format_value(item, indent=inner)}" for i, item in enumerate(value)]
        return "[\n" + "\n".join(rows) + f"\n{indent}]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        # Numbers come back from the engine as floats; Pulumi prints 3.0 as 3.
        return str(int(value))
    return str(value)


def _render_steps(steps: Sequence[StepLike], *, planning: bool) -> str:
    header = ("Type", "Name", "Plan" if planning else "Status", "Info")
    words = _PLANNED if planning else _DONE
    rows = [
        (step.type, step.name, words.get(step.op, step.op), _info(step), _SYMBOLS.get(step.op, "?"))
        for step in steps
    ]
    type_w = max([len(header[0])] + [len(r[0]) for r in rows])
    name_w = max([len(header[1])] + [len(r[1]) for r in rows])
    status_w = max([len(header[2])] + [len(r[2]) for r in rows])
    lines = [
        f"{' ' * 5}{header[0].ljust(type_w)}  {header[1].ljust(name_w)}  "
        f"{header[2].ljust(status_w)}  {header[3]}"
    ]
    for type_, name, status, info, symbol in rows:
        line = f" {symbol.ljust(4)}{type_.ljust(type_w)}  {name.ljust(name_w)}  "
        line += f"{status.ljust(status_w)}  {info}"
        lines.append(line.rstrip())
    return "\n".join(line.rstrip() for line in lines)


def _info(step: StepLike) -> str:
    """Pulumi's ``[diff: ~a,b]`` note: which properties changed (replacing ones first)."""
    keys = list(step.replace_keys) + [k for k in step.changed_keys if k not in step.replace_keys]
    if step.op not in ("update", "replace", "refresh") or not keys:
        return ""
    return "[diff: ~" + ",".join(keys) + "]"
