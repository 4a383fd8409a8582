"""A dynamic provider that does nothing, and a resource over it: the engine's own floor.

Every call returns at once, without a request, with outputs shaped like `LogSourceProvider`'s
(the inputs echoed, plus `id`, `tenantId`, `projectId`, `createdAt`), so the engine serialises,
stores and diffs the same amount of state. An input `sleepSeconds` makes each create, update and
delete sleep that long first: a provider whose API is that far away, served by the SDK's plugin
as it is (at most 4 calls at once). The class lives in an importable module (not
`__main__`) so the SDK pickles it by reference, as it pickles `LogSourceProvider`: the plugin
imports this module, and only this, on its first call.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

_ids = itertools.count(1)


class NoopProvider(ResourceProvider):
    """Answers every call immediately; holds nothing, so it pickles by reference."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({"isActive": True, "verify": False, **news}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("type", "name", "credentials", "sources", "isActive", "verify")
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys))

    def create(self, props: dict[str, Any]) -> CreateResult:
        _sleep(props)
        source_id = f"ls_noop{next(_ids):08d}"
        return CreateResult(source_id, _outputs(source_id, props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _sleep(news)
        return UpdateResult(_outputs(id_, news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        _sleep(props)


def _sleep(props: dict[str, Any]) -> None:
    seconds = props.get("sleepSeconds")
    if isinstance(seconds, int | float) and seconds > 0:
        time.sleep(seconds)


def _outputs(source_id: str, props: dict[str, Any]) -> dict[str, Any]:
    return {
        **props,
        "id": source_id,
        "tenantId": "ten_noop",
        "projectId": "prj_noop",
        "createdAt": "2026-01-01T00:00:00Z",
    }


class NoopSource(Resource):
    """A `LogSource`-shaped resource (the same inputs, `credentials` secret) over `NoopProvider`."""

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        options = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["credentials"])
        )
        super().__init__(NoopProvider(), name, props, options)
