"""`CarryingProvider`: `LogSourceProvider` with its source-fixed outputs carried in the inputs.

A trial of a provider change, run by the real CLI against the emulator
(test_engine_notes_phantom_cli.py): `read` returns ``tenantId`` and ``createdAt`` among the
inputs, and `check` copies them from the old inputs, so that they stay known in the preview of
an update. The plugin imports this module by reference, like `recording_provider`.
"""

from __future__ import annotations

from typing import Any, Final

from pulumi.dynamic import CheckResult, ReadResult

from sigsentry_pulumi.provider import LogSourceProvider

FIXED: Final = ("tenantId", "createdAt")
"""Outputs a source keeps for its lifetime: carrying them in the inputs changes nothing."""


class CarryingProvider(LogSourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(_olds, news)
        for key in FIXED:
            # A replacement's Check has no olds, so a new source never inherits them.
            if result.inputs.get(key) is None and isinstance(_olds.get(key), str):
                result.inputs[key] = _olds[key]
        return result

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        result = super().read(id_, props)
        if result.id is not None and result.inputs is not None and result.outs is not None:
            for key in FIXED:
                if isinstance(result.outs.get(key), str):
                    result.inputs[key] = result.outs[key]
        return result
