"""`LogSourceMocks`: Pulumi unit-test mocks that check every `LogSource` as the provider does.

```python
import pulumi
from sigsentry_pulumi.testing import LogSourceMocks

pulumi.runtime.set_mocks(LogSourceMocks(), preview=False)   # before the program is imported
```

Each `LogSource` registration is checked with `sigsentry_pulumi.validation.check_inputs`, the
function the provider's `check` runs, so a unit test fails on the same inputs `pulumi preview`
refuses, with the same field-named messages. What the mocks cannot check is the provider
settings (`sigsentry:apiKey`, `sigsentry:apiUrl`, an account's settings): they live in the
stack config, which a unit test does not have.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import pulumi
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret, wrap_rpc_secret

from .._constants import RESOURCE_TYPE
from .._rules import Problem, is_unknown
from .._types import ADOPT_KEY, PROVIDER_KEY, SECRET_STATE
from ..validation import check_inputs

if TYPE_CHECKING:
    from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

__all__ = ["EchoMocks", "LogSourceCheckError", "LogSourceMocks"]

DEFAULT_PROJECT_ID: Final = "prj_test"
DEFAULT_TENANT_ID: Final = "tnt_test"


class LogSourceCheckError(ValueError):
    """A `LogSource`'s inputs break the rules the provider's `check` applies.

    The message names the resource and each field at fault, as `pulumi preview` does; `problems`
    holds them one by one. No credential value appears in it.
    """

    def __init__(self, resource_name: str, problems: Sequence[Problem]) -> None:
        self.resource_name = resource_name
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p.field}: {p.reason}" for p in self.problems)
        super().__init__(f"LogSource {resource_name!r} has problems:\n{lines}")


class EchoMocks(pulumi.runtime.Mocks):
    """The plainest mocks: a resource's id is `<name>_id`, its outputs are its inputs; a call
    returns its arguments."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        return args.resource_id or f"{args.name}_id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return dict(args.args), []  # no failures: the SDK iterates them, so a list, not None


class LogSourceMocks(pulumi.runtime.Mocks):
    """Mocks for `pulumi.runtime.set_mocks` that answer every `LogSource` as the provider would.

    For each `LogSource` (type `pulumi-python:dynamic/sigsentry:LogSource`) registered:

    * its inputs are checked exactly as the provider's `check` checks them (the API's rules,
      `account`, `adopt_id`, with `isActive=True` and `verify=False` filled in), but not the
      provider settings (`sigsentry:apiKey`, ...), which need stack config a unit test lacks.
      Bad inputs raise `LogSourceCheckError` naming each field, which fails the test that
      registered them (and is kept in `failures`);
    * good inputs get what the provider's create returns: the id `ls_<uuid>` (the adopted id
      with `adopt_id`), and as outputs the checked inputs plus `tenantId`, `projectId` (the
      program's `project_id`, else `project_id` here) and `createdAt` (now, ISO 8601 UTC),
      with `credentials` secret.

    `LogSource.get` answers with the id asked for and `tenantId`/`projectId`. Every other
    resource type and every call goes to `wrapped` (default: `EchoMocks`, the inputs echoed).
    `resources` holds the id and outputs of each `LogSource` answered, by resource name.
    """

    def __init__(
        self,
        wrapped: pulumi.runtime.Mocks | None = None,
        *,
        project_id: str = DEFAULT_PROJECT_ID,
        tenant_id: str = DEFAULT_TENANT_ID,
    ) -> None:
        self.wrapped: pulumi.runtime.Mocks = wrapped if wrapped is not None else EchoMocks()
        self.project_id = project_id
        self.tenant_id = tenant_id
        self.failures: list[LogSourceCheckError] = []
        self.resources: dict[str, tuple[str, dict[str, Any]]] = {}
        self._adopters: dict[str, str] = {}  # one deployment's adopt ids, as the provider keeps
        self._lock = threading.Lock()  # the SDK registers resources from several threads

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        if args.typ != RESOURCE_TYPE:
            return self.wrapped.new_resource(args)
        inputs = {k: _reveal(v) for k, v in args.inputs.items() if k != PROVIDER_KEY}
        if args.custom is None and args.resource_id:  # LogSource.get: a read, no check
            read = {k: v for k, v in inputs.items() if v is not None}
            read.setdefault("projectId", self.project_id)
            read["tenantId"] = self.tenant_id
            return self._answer(args.name, args.resource_id, read)
        with self._lock:
            checked, problems = check_inputs(inputs, adopters=self._adopters)
        if problems:
            error = LogSourceCheckError(args.name, problems)
            with self._lock:
                self.failures.append(error)
            raise error
        adopted = checked.get(ADOPT_KEY)
        if isinstance(adopted, str) and not is_unknown(adopted):  # unknown in a preview
            log_source_id = adopted
        else:
            log_source_id = f"ls_{uuid.uuid4()}"
        outputs = dict(checked)
        outputs["tenantId"] = self.tenant_id
        outputs.setdefault("projectId", self.project_id)
        outputs["createdAt"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self._answer(args.name, log_source_id, outputs)

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return self.wrapped.call(args)

    def register_transform(self, transform: Any) -> None:
        self.wrapped.register_transform(transform)

    def register_invoke_transform(self, transform: Any) -> None:
        self.wrapped.register_invoke_transform(transform)

    def _answer(
        self, resource_name: str, log_source_id: str, outputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        with self._lock:
            self.resources[resource_name] = (log_source_id, dict(outputs))
        # The engine marks these secret (`additional_secret_outputs`); the mock monitor does
        # not, so the answer carries the secret mark itself.
        for key in SECRET_STATE:
            if key in outputs:
                outputs[key] = wrap_rpc_secret(outputs[key])
        return log_source_id, outputs


def _reveal(value: Any) -> Any:
    """`value` with every secret mark the mock monitor passes on removed, at any depth: the
    provider's `check` gets plain values (the engine strips the marks before each call)."""
    if is_rpc_secret(value):
        return _reveal(unwrap_rpc_secret(value))
    if isinstance(value, Mapping):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    return value
