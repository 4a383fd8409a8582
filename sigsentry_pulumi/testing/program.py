"""Run a Pulumi program in this process under ``pulumi.runtime.set_mocks``.

The SDK's mock monitor receives every resource registration; :class:`_ForwardingMonitor` replaces
its ``RegisterResource`` / ``ReadResource`` / ``RegisterResourceOutputs`` so that each registration,
with the resource options the mock hides from ``Mocks.new_resource`` (additional secret outputs,
replace-on-changes, delete-before-replace, dependencies), goes to a :class:`RegistrationHandler`
(the deployment), and its answer (id and outputs, secrets marked, unknowns in a preview) goes back
to the program as the engine's would.

A program is a folder holding ``Pulumi.yaml`` (its ``main:`` honoured) and ``__main__.py``, run as
the Python language host runs it (``runpy`` as ``__main__``, working directory and ``sys.path``
set to the program folder), or a plain function. Each run gets a thread of its own, a fresh
``contextvars.Context`` and a private event loop, so the SDK's ambient settings (root stack, config,
dry-run flag) and the caller's event loop are never touched.

Not implemented: ``pulumi.runtime.invoke`` (functions such as ``aws.get_...``; they fail), stack
references, providers other than the dynamic one, component-resource state (components register
and parent resources, but are not recorded), aliases, ``import_`` and transforms.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import runpy
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml  # type: ignore[import-untyped]
from google.protobuf import empty_pb2
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack

from .errors import EngineError
from .values import Secret, scrub, serialize

__all__ = [
    "ProgramSpec",
    "ReadRegistration",
    "Registration",
    "RegistrationHandler",
    "load_program",
    "run_program",
]

STACK_TYPE = "pulumi:pulumi:Stack"

# chdir and sys.path are process-wide: one folder program runs at a time in a process.
_PROCESS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Registration:
    """A resource the program registered: inputs with secrets as :class:`Secret`, unknowns in a
    preview as ``pulumi.output.Unknown``, and the options the engine acts on."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    dependencies: tuple[str, ...]
    additional_secret_outputs: tuple[str, ...]
    replace_on_changes: tuple[str, ...]
    delete_before_replace: bool | None  # None: the option was not set
    import_id: str
    protect: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]


@dataclass(frozen=True)
class ReadRegistration:
    """A ``Resource.get(name, id)`` read: the engine reads it through the provider."""

    urn: str
    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    dependencies: tuple[str, ...]
    additional_secret_outputs: tuple[str, ...]


class RegistrationHandler(Protocol):
    """What the engine does with a registration; returns (id, outputs), id ``""`` when unknown."""

    def register(self, registration: Registration) -> tuple[str, dict[str, Any]]: ...

    def read(self, registration: ReadRegistration) -> tuple[str, dict[str, Any]]: ...


@dataclass(frozen=True)
class ProgramSpec:
    """A program ready to run: its entry point, project name, folder and project config defaults."""

    run: Callable[[], None]
    project: str
    folder: Path | None
    config_defaults: dict[str, str]


def load_program(program: Path | str | Callable[[], None], project: str | None) -> ProgramSpec:
    """Resolve a program folder (or its ``Pulumi.yaml``) or a function into a ProgramSpec."""
    if callable(program):
        return ProgramSpec(program, project or "project", None, {})
    path = Path(program).resolve()
    project_file = path if path.is_file() else path / "Pulumi.yaml"
    if not project_file.is_file():
        raise EngineError(
            f"no Pulumi.yaml in {path}: pass the folder of a Pulumi project (Pulumi.yaml and "
            "__main__.py) or a Python function"
        )
    document = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    folder = (project_file.parent / document.get("main", ".")).resolve()
    main = folder / "__main__.py"
    if not main.is_file():
        raise EngineError(f"no __main__.py in {folder}: the stand-in runs Python programs only")
    name = project or document.get("name")
    if not name:
        raise EngineError(f"{project_file} has no `name:`; set it, or pass project=...")
    defaults = {}
    for key, spec in (document.get("config") or {}).items():
        if isinstance(spec, Mapping) and "default" in spec:
            namespaced = key if ":" in key else f"{name}:{key}"
            defaults[namespaced] = _config_string(spec["default"])
    return ProgramSpec(lambda: _run_main(main), str(name), folder, defaults)


def _config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    return str(yaml.safe_dump(value, default_flow_style=True)).strip()


def _run_main(main: Path) -> None:
    runpy.run_path(str(main), run_name="__main__")


def run_program(
    spec: ProgramSpec,
    *,
    stack: str,
    config: Mapping[str, str | Secret],
    preview: bool,
    handler: RegistrationHandler,
    secrets: Iterable[str] = (),
) -> dict[str, Any]:
    """Run the program once; returns the stack outputs (secrets as :class:`Secret`).

    Raises the first :class:`EngineError` a registration raised, else the program's own error as
    an :class:`EngineError` (``secrets`` scrubbed from its message).
    """
    plain = {
        key: str(value.value if isinstance(value, Secret) else value)
        for key, value in config.items()
    }
    secret_keys = [key for key, value in config.items() if isinstance(value, Secret)]
    monitor = _ForwardingMonitor(handler, project=spec.project, stack=stack)

    def run() -> dict[str, Any]:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_quiet_about(monitor))
        asyncio.set_event_loop(loop)
        try:
            # A placeholder root keeps set_mocks from creating (and finishing) a stack of its own:
            # run_in_stack must create the one whose outputs are the program's exports.
            settings.ROOT.set(_PLACEHOLDER_ROOT)  # type: ignore[arg-type]
            mocks.set_mocks(
                _NoMocks(), project=spec.project, stack=stack, preview=preview, monitor=monitor
            )
            settings.ROOT.set(None)
            set_all_config(plain, secret_keys)
            loop.run_until_complete(run_in_stack(spec.run))
        except Exception as error:
            if monitor.error is not None:
                raise monitor.error from None
            text = f"{type(error).__name__}: {error}"
            safe = scrub(text, secrets)
            failure = EngineError(f"the program failed: {safe}", step="program")
            # The original exception (and its traceback) only when it holds no secret.
            raise failure from (error if safe == text else None)
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            asyncio.set_event_loop(None)
        if monitor.error is not None:
            raise monitor.error
        return monitor.stack_outputs

    with _program_environment(spec.folder):
        return _in_own_thread(lambda: contextvars.Context().run(run))


def _in_own_thread(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``call`` on a thread of its own: event loops are per thread, so the caller's (or its
    absence) is left exactly as it was."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # re-raised in the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name="pulumi-program")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: dict[str, Any] = outcome["value"]
    return value


def _quiet_about(
    monitor: _ForwardingMonitor,
) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """An exception handler that drops the echoes of a failure already raised to the caller.

    When a registration fails, every output that depends on it holds the same error; nobody awaits
    them, so asyncio would log "exception was never retrieved" for each when they are collected.
    """

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if monitor.error is not None and isinstance(context.get("exception"), EngineError):
            return
        loop.default_exception_handler(context)

    return handle


@contextmanager
def _program_environment(folder: Path | None) -> Iterator[None]:
    if folder is None:
        yield
        return
    with _PROCESS_LOCK:
        previous = Path.cwd()
        sys.path.insert(0, str(folder))
        os.chdir(folder)
        try:
            yield
        finally:
            os.chdir(previous)
            sys.path.remove(str(folder))


_PLACEHOLDER_ROOT = object()


class _NoMocks(mocks.Mocks):
    """Never consulted: the monitor forwards registrations to the deployment instead."""

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        raise AssertionError("registrations go to the deployment, not to Mocks.new_resource")

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        raise EngineError(
            f"the program invoked {args.token}: provider functions are not supported by the "
            "offline engine",
            step="invoke",
        )


class _ForwardingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, with registrations forwarded to a :class:`RegistrationHandler`."""

    def __init__(self, handler: RegistrationHandler, *, project: str, stack: str) -> None:
        super().__init__(_NoMocks())
        self._handler = handler
        self._project = project
        self._stack = stack
        self._lock = threading.Lock()
        self.error: EngineError | None = None
        self.stack_outputs: dict[str, Any] = {}

    def urn(self, parent: str, type_: str, name: str) -> str:
        # make_urn reads the project and stack from context variables, which executor threads
        # (where the SDK sends registrations) do not see.
        if parent:
            parent_type = parent.split("::")[2].split("$")[-1]
            if parent_type != STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{self._stack}::{self._project}::{type_}::{name}"

    def RegisterResource(self, request: Any) -> Any:
        urn = self.urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        registration = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            inputs=from_wire(rpc.deserialize_properties(request.object, keep_unknowns=True)),
            dependencies=tuple(request.dependencies),
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
            replace_on_changes=tuple(request.replaceOnChanges),
            delete_before_replace=(
                bool(request.deleteBeforeReplace) if request.deleteBeforeReplaceDefined else None
            ),
            import_id=request.importId,
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            ignore_changes=tuple(request.ignoreChanges),
        )
        id_, outputs = self._guard(lambda: self._handler.register(registration))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=to_wire(outputs))

    def ReadResource(self, request: Any) -> Any:
        urn = self.urn(request.parent, request.type, request.name)
        registration = ReadRegistration(
            urn=urn,
            type=request.type,
            name=request.name,
            id=request.id,
            inputs=from_wire(rpc.deserialize_properties(request.properties, keep_unknowns=True)),
            dependencies=tuple(request.dependencies),
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
        )
        _, outputs = self._guard(lambda: self._handler.read(registration))
        return resource_pb2.ReadResourceResponse(urn=urn, properties=to_wire(outputs))

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == STACK_TYPE:
            outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
            self.stack_outputs = from_wire(outputs)
        return empty_pb2.Empty()

    def _guard(self, call: Callable[[], tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
        try:
            return call()
        except EngineError as error:
            with self._lock:
                if self.error is None:
                    self.error = error
            raise


def from_wire(value: Any) -> Any:
    """SDK values to the stand-in's: RPC secret wrappers become :class:`Secret`."""
    if rpc.is_rpc_secret(value):
        return Secret(from_wire(rpc.unwrap_rpc_secret(value)))
    if isinstance(value, Mapping):
        return {key: from_wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [from_wire(item) for item in value]
    return value


def to_wire(outputs: Mapping[str, Any]) -> Any:
    """Outputs back to the SDK: :class:`Secret` becomes the RPC secret wrapper."""

    def convert(value: Any) -> Any:
        if isinstance(value, Secret):
            return rpc.wrap_rpc_secret(convert(value.value))
        if isinstance(value, Mapping):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [convert(item) for item in value]
        return value

    return serialize(convert(dict(outputs)))
