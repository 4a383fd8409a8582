"""The engine's step logic: what each registration, refresh and destroy sends to the plugin.

One :class:`Deployment` is one preview or update deployment over one plugin process. For each
registered resource it follows the Pulumi engine's step generator (see docs/engine.md):

* create: ``Check(olds={}, news)`` then ``Create(checked inputs)``;
* existing: ``Check(olds=old inputs, news)`` then ``Diff(olds=old outputs, news)``; no change keeps
  the old outputs ("same"); a change is ``Update(olds=old outputs, news)``; a replacement is
  ``Check(olds={}, news)`` then ``Create``, the old resource deleted at the end of the deployment
  (or ``Delete`` first when delete-before-replace is asked by the resource option or the
  provider, the option winning);
* resources in the old state the program no longer registers are deleted at the end, dependents
  first;
* in a preview only Check and Diff run: a new resource's outputs are its checked inputs and its id
  is unknown, so a dependent sees unknowns.

Secrets: every call gets plaintext; afterwards the keys of secret inputs and the resource's
``additional_secret_outputs`` are marked :class:`Secret` again in inputs and outputs.
At most four provider calls run at once (the plugin's own limit).

Not implemented: ``ignore_changes``, ``protect``, ``retain_on_delete``, ``import_``, aliases,
custom timeouts, replacing the dependents of a delete-before-replace resource, and partial
failure semantics beyond recording what completed.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, Protocol, TypeVar

from .errors import EngineError
from .plugin import CheckResponse, ProviderCallError, ProviderPlugin
from .program import ReadRegistration, Registration
from .results import Step, StepOp
from .state import ResourceState, StackState
from .values import Secret, contains_secret, contains_unknown, reveal, scrub, secret_strings

__all__ = ["MAX_CONCURRENT_CALLS", "PROVIDER_KEY", "Deployment", "destroy", "refresh"]

MAX_CONCURRENT_CALLS: Final = 4
PROVIDER_KEY: Final = "__provider"
DYNAMIC_TYPE_PREFIX: Final = "pulumi-python:dynamic"

T = TypeVar("T")


class _Provider:
    """The plugin with the engine's call discipline: at most four calls at once, errors named."""

    def __init__(self, plugin: ProviderPlugin, secrets: Iterable[str]) -> None:
        self.plugin = plugin
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT_CALLS)
        self._secrets = set(secrets)
        self._secrets_lock = threading.Lock()

    def remember_secrets(self, strings: Iterable[str]) -> None:
        with self._secrets_lock:
            self._secrets.update(strings)

    def call(self, step: str, resource: _Named, fn: Callable[[], T]) -> T:
        with self._slots:
            try:
                return fn()
            except ProviderCallError as error:
                with self._secrets_lock:
                    message = scrub(error.message, self._secrets)
                raise EngineError(
                    f"{_describe(resource)}: {step} failed: {message}",
                    urn=resource.urn,
                    step=step,
                    provider_message=message,
                ) from None


class _Named(Protocol):
    @property
    def urn(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...


def _describe(resource: _Named) -> str:
    return f"{resource.type.rsplit(':', 1)[-1]} {resource.name!r} ({resource.urn})"


class Deployment:
    """One preview or update deployment; the program's registrations arrive on SDK threads."""

    def __init__(
        self,
        plugin: ProviderPlugin,
        old: StackState,
        *,
        preview: bool,
        secrets: Iterable[str],
    ) -> None:
        self.preview = preview
        self._provider = _Provider(plugin, secrets)
        self._old = {resource.urn: resource for resource in old.resources}
        self._old_order = [resource.urn for resource in old.resources]
        self._pending = list(old.pending_deletions)
        self._lock = threading.Lock()
        self.steps: list[Step] = []
        self.new: dict[str, ResourceState] = {}
        self.checked: dict[str, tuple[Registration, dict[str, Any]]] = {}
        self._seen: set[str] = set()
        self._deleted: set[tuple[str, str]] = set()
        self._finished = False

    # -- registrations ----------------------------------------------------------------------

    def register(self, registration: Registration) -> tuple[str, dict[str, Any]]:
        if not registration.custom:
            return "", {}  # a component: no provider, no state of its own here
        self._require_dynamic(registration)
        with self._lock:
            if registration.urn in self._seen:
                raise EngineError(
                    f"{_describe(registration)} is registered twice: give each resource a "
                    "unique name",
                    urn=registration.urn,
                    step="register",
                )
            self._seen.add(registration.urn)
        self._provider.remember_secrets(secret_strings(registration.inputs.values()))
        old = self._old.get(registration.urn)
        if old is not None and old.external:
            old = None
        secret_keys = _secret_keys(registration.inputs, registration.additional_secret_outputs)
        checked = self._check(registration, old.inputs if old else {}, secret_keys)
        with self._lock:
            self.checked[registration.urn] = (registration, checked)
        if old is None:
            return self._create(registration, checked, secret_keys)
        return self._change(registration, old, checked, secret_keys)

    def _require_dynamic(self, registration: Registration) -> None:
        if not registration.type.startswith(DYNAMIC_TYPE_PREFIX):
            raise EngineError(
                f"{_describe(registration)}: only Python dynamic resources can be deployed by the "
                "offline engine; run this program with the Pulumi CLI",
                urn=registration.urn,
                step="register",
            )
        if registration.import_id:
            raise EngineError(
                f"{_describe(registration)}: the `import_` option is not supported (the dynamic "
                "provider cannot import: Read gets no `__provider`); remove it",
                urn=registration.urn,
                step="register",
            )

    def _check(
        self, registration: Registration, olds: Mapping[str, Any], secret_keys: set[str]
    ) -> dict[str, Any]:
        response: CheckResponse = self._provider.call(
            "check",
            registration,
            lambda: self._provider.plugin.check(registration.urn, olds, registration.inputs),
        )
        if response.failures:
            problems = "; ".join(
                f"property {prop!r}: {reason}" if prop else reason
                for prop, reason in response.failures
            )
            raise EngineError(
                f"{_describe(registration)} has invalid inputs: {problems}. Fix the resource's "
                "arguments in the program and run again; no resource was changed.",
                urn=registration.urn,
                step="check",
                provider_message=problems,
            )
        return _mark(response.inputs, secret_keys)

    def _create(
        self, registration: Registration, checked: dict[str, Any], secret_keys: set[str]
    ) -> tuple[str, dict[str, Any]]:
        if self.preview:
            self._record_step("create", registration, None)
            return "", checked
        id_, outputs = self._provider.call(
            "create",
            registration,
            lambda: self._provider.plugin.create(registration.urn, checked),
        )
        self._record(registration, id_, checked, _mark(outputs, secret_keys))
        self._record_step("create", registration, id_)
        return id_, self.new[registration.urn].outputs

    def _change(
        self,
        registration: Registration,
        old: ResourceState,
        checked: dict[str, Any],
        secret_keys: set[str],
    ) -> tuple[str, dict[str, Any]]:
        diff = self._provider.call(
            "diff",
            registration,
            lambda: self._provider.plugin.diff(
                old.id, registration.urn, old.outputs, checked, old_inputs=old.inputs
            ),
        )
        input_changes = _changed_keys(old.inputs, checked)
        if diff.changes is None:
            # The provider left it to the engine: compare inputs, __provider included.
            changed = input_changes
            replaces = _replace_on_changes(changed, registration.replace_on_changes)
        elif diff.changes:
            changed = _without_provider(input_changes)
            if not changed:  # the inputs agree, so the remote side drifted: name what differs
                news = _subset(checked, checked)
                changed = _changed_keys(_subset(old.outputs, news), news)
            replaces = tuple(diff.replaces)
        else:
            changed, replaces = (), ()
        if not changed and not diff.changes:
            self._record(registration, old.id, checked, old.outputs)
            self._record_step("same", registration, old.id)
            return old.id, old.outputs
        shown = _without_provider(changed) or changed
        if replaces:
            delete_first = (
                registration.delete_before_replace
                if registration.delete_before_replace is not None
                else diff.delete_before_replace
            )
            return self._replace(registration, old, secret_keys, shown, replaces, delete_first)
        if self.preview:
            self._record_step("update", registration, old.id, shown)
            return old.id, checked
        outputs = self._provider.call(
            "update",
            registration,
            lambda: self._provider.plugin.update(
                old.id, registration.urn, old.outputs, checked, old_inputs=old.inputs
            ),
        )
        self._record(registration, old.id, checked, _mark(outputs, secret_keys))
        self._record_step("update", registration, old.id, shown)
        return old.id, self.new[registration.urn].outputs

    def _replace(
        self,
        registration: Registration,
        old: ResourceState,
        secret_keys: set[str],
        changed: tuple[str, ...],
        replaces: tuple[str, ...],
        delete_first: bool,
    ) -> tuple[str, dict[str, Any]]:
        if self.preview:
            self._record_step("replace", registration, None, changed, replaces)
            return "", self.checked[registration.urn][1]
        # The replacement is checked again, as a brand-new resource.
        checked = self._check(registration, {}, secret_keys)
        if delete_first:
            self._delete(old, "delete-replaced")
        id_, outputs = self._provider.call(
            "create",
            registration,
            lambda: self._provider.plugin.create(registration.urn, checked),
        )
        if not delete_first:
            # Only now is the old resource pending deletion: had the create failed, it would
            # still be the live one, as the engine keeps it.
            with self._lock:
                self._pending.append(old)
        self._record(registration, id_, checked, _mark(outputs, secret_keys))
        self._record_step("replace", registration, id_, changed, replaces)
        return id_, self.new[registration.urn].outputs

    def read(self, registration: ReadRegistration) -> tuple[str, dict[str, Any]]:
        """``Resource.get``: Read with the id and the given inputs, no old outputs."""
        response = self._provider.call(
            "read",
            registration,
            lambda: self._provider.plugin.read(
                registration.id, registration.urn, None, registration.inputs
            ),
        )
        if not response.id:
            raise EngineError(
                f"{_describe(registration)}: no resource with id {registration.id!r} exists; "
                "check the id passed to get()",
                urn=registration.urn,
                step="read",
            )
        secret_keys = _secret_keys(registration.inputs, registration.additional_secret_outputs)
        outputs = _mark(response.outputs, secret_keys)
        inputs = _mark(response.inputs or registration.inputs, secret_keys)
        resource = ResourceState(
            urn=registration.urn,
            type=registration.type,
            name=registration.name,
            id=response.id,
            inputs=inputs,
            outputs=outputs,
            dependencies=registration.dependencies,
            external=True,
        )
        with self._lock:
            self._seen.add(registration.urn)
            self.new[registration.urn] = resource
        self._record_step("read", registration, response.id)
        return response.id, outputs

    # -- the end of a deployment ------------------------------------------------------------

    def finish(self) -> None:
        """Delete what the program no longer declares, then the replaced resources."""
        gone = [
            self._old[urn]
            for urn in reversed(self._old_order)
            if urn not in self._seen and not self._old[urn].external
        ]
        deletions: list[tuple[ResourceState, StepOp]] = [(r, "delete") for r in gone]
        deletions += [(r, "delete-replaced") for r in reversed(self._pending)]
        for resource, op in deletions:
            if self.preview:
                self._record_step(op, resource, resource.id)
            else:
                self._delete(resource, op)
        if not self.preview:
            self._pending.clear()
        self._finished = True

    def _delete(self, resource: ResourceState, op: StepOp = "delete") -> None:
        self._provider.call("delete", resource, _deleter(self._provider.plugin, resource))
        with self._lock:
            self._deleted.add(_identity(resource))
            if resource in self._pending:
                self._pending.remove(resource)
        self._record_step(op, resource, resource.id)

    def state(self, outputs: dict[str, Any]) -> StackState:
        """The state after this deployment: what the program declared (and read); after a
        failure, what completed plus the old resources not dealt with yet."""
        with self._lock:
            resources = list(self.new.values())
            for urn in [] if self._finished else self._old_order:
                old = self._old[urn]
                if urn not in self.new and _identity(old) not in self._deleted:
                    resources.append(old)
            pending = [r for r in self._pending if _identity(r) not in self._deleted]
        return StackState(resources=resources, outputs=outputs, pending_deletions=pending)

    # -- bookkeeping ------------------------------------------------------------------------

    def _record(
        self,
        registration: Registration,
        id_: str,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
    ) -> None:
        resource = ResourceState(
            urn=registration.urn,
            type=registration.type,
            name=registration.name,
            id=id_,
            inputs=inputs,
            outputs=outputs,
            dependencies=registration.dependencies,
        )
        with self._lock:
            self.new[registration.urn] = resource

    def _record_step(
        self,
        op: StepOp,
        resource: _Named,
        id_: str | None,
        changed: Sequence[str] = (),
        replaces: Sequence[str] = (),
    ) -> None:
        step = Step(
            op, resource.urn, resource.type, resource.name, id_, tuple(changed), tuple(replaces)
        )
        with self._lock:
            self.steps.append(step)


def refresh(
    plugin: ProviderPlugin, old: StackState, secrets: Iterable[str]
) -> tuple[list[Step], StackState]:
    """Read every resource back: drift recorded (``ReadResult.inputs``), vanished ones dropped."""
    provider = _Provider(plugin, secrets)

    def one(resource: ResourceState) -> tuple[Step, ResourceState | None]:
        response = provider.call(
            "refresh",
            resource,
            lambda: plugin.read(resource.id, resource.urn, resource.outputs, resource.inputs),
        )
        if not response.id:
            return _step("delete", resource, resource.id), None
        secret_keys = {
            k for k, v in {**resource.inputs, **resource.outputs}.items() if contains_secret(v)
        }
        outputs = _mark(response.outputs, secret_keys)
        inputs = (
            _mark(response.inputs, secret_keys) if response.inputs is not None else resource.inputs
        )
        # As the engine does: the provider diffs the refreshed outputs against the inputs the
        # stack knows; "no change" means no drift, even if Read filled in inputs (a default the
        # provider resolved, say). With changes=None the engine compares the outputs itself.
        diff = provider.call(
            "refresh",
            resource,
            lambda: plugin.diff(
                response.id, resource.urn, outputs, resource.inputs, old_inputs=resource.inputs
            ),
        )
        drift: tuple[str, ...] = ()
        if diff.changes is not False:
            drift = _without_provider(_changed_keys(resource.outputs, outputs))
            if diff.changes and not drift:
                drift = _without_provider(_changed_keys(resource.inputs, inputs))
        refreshed = dataclasses.replace(resource, id=response.id, inputs=inputs, outputs=outputs)
        return _step(
            "refresh" if drift or diff.changes else "same", resource, response.id, drift
        ), refreshed

    with ThreadPoolExecutor(MAX_CONCURRENT_CALLS, thread_name_prefix="refresh") as pool:
        results = list(pool.map(one, old.resources))
    steps = [step for step, _ in results]
    resources = [resource for _, resource in results if resource is not None]
    return steps, StackState(resources, dict(old.outputs), list(old.pending_deletions))


def destroy(
    plugin: ProviderPlugin, old: StackState, secrets: Iterable[str], steps: list[Step]
) -> tuple[StackState, EngineError | None]:
    """Delete every managed resource, dependents first (resources read with ``get`` are only
    forgotten). Returns what is left (empty on success) and the error that stopped it, if any;
    ``steps`` receives a step per deletion as it completes.
    """
    provider = _Provider(plugin, secrets)
    remaining = list(old.resources)
    pending = list(old.pending_deletions)
    for resource in [*reversed(pending), *reversed(old.resources)]:
        if not resource.external:
            try:
                provider.call("delete", resource, _deleter(plugin, resource))
            except EngineError as error:
                return StackState(remaining, dict(old.outputs), pending), error
            op: StepOp = "delete-replaced" if resource in pending else "delete"
            steps.append(_step(op, resource, resource.id))
        if resource in pending:
            pending.remove(resource)
        else:
            remaining.remove(resource)
    return StackState(), None


# -- values ---------------------------------------------------------------------------------


def _deleter(plugin: ProviderPlugin, resource: ResourceState) -> Callable[[], None]:
    def delete() -> None:
        plugin.delete(resource.id, resource.urn, resource.outputs, old_inputs=resource.inputs)

    return delete


def _step(
    op: StepOp, resource: ResourceState, id_: str | None, changed: Sequence[str] = ()
) -> Step:
    return Step(op, resource.urn, resource.type, resource.name, id_, tuple(changed))


def _identity(resource: ResourceState) -> tuple[str, str]:
    return resource.urn, resource.id


def _secret_keys(inputs: Mapping[str, Any], additional: Iterable[str]) -> set[str]:
    return {key for key, value in inputs.items() if contains_secret(value)} | set(additional)


def _mark(values: Mapping[str, Any], secret_keys: set[str]) -> dict[str, Any]:
    """Plain values with the keys in ``secret_keys`` marked secret, as the engine re-marks them."""
    marked: dict[str, Any] = {}
    for key, value in values.items():
        plain = reveal(value)
        marked[key] = Secret(plain) if key in secret_keys else plain
    return marked


def _without_provider(keys: Iterable[str]) -> tuple[str, ...]:
    return tuple(key for key in keys if key != PROVIDER_KEY)


def _subset(values: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {key: values[key] for key in keys if key in values and key != PROVIDER_KEY}


def _changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[str, ...]:
    keys = sorted(set(olds) | set(news))
    return tuple(
        key
        for key in keys
        if contains_unknown(news.get(key)) or reveal(olds.get(key)) != reveal(news.get(key))
    )


def _replace_on_changes(changed: Sequence[str], patterns: Sequence[str]) -> tuple[str, ...]:
    if "*" in patterns:
        return tuple(changed)
    return tuple(key for key in changed if key in patterns)
