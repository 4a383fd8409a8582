"""Run policy packs the way ``pulumi preview --policy-pack DIR`` does, without the Pulumi CLI.

The engine's contract with a Python policy pack (pulumi ``analyzer_plugin.go`` and
``pkg/engine/plugins.go``, pulumi-policy ``policy.py``), reproduced step by step:

1. **Start.** The engine runs the ``pulumi-analyzer-policy-python`` shim with the policy pack folder
   as working directory and two arguments, the engine's address and ``.``, followed by one
   ``-key=value`` per runtime option of ``PulumiPolicy.yaml``. The shim runs
   ``python -u -m pulumi.policy <engine address> .`` (with the ``virtualenv`` option's interpreter
   when one is named). The environment adds ``PULUMI_PROJECT``, ``PULUMI_STACK`` and
   ``PULUMI_DRY_RUN`` (``true`` in a preview), from which the pack configures the Pulumi runtime, so
   ``pulumi.get_stack()`` works inside a policy.
2. **Port.** ``PolicyPack(...)`` serves the Analyzer gRPC service on 127.0.0.1 and prints its port
   as the first line of stdout.
3. **Handshake** (the Python pack answers UNIMPLEMENTED, and the engine carries on), then
   **ConfigureStack** (stack, project, dry run).
4. **GetAnalyzerInfo**, then the policy config is *reconciled* as the engine does: each policy's
   enforcement level and its schema's ``default`` values, then the pack's initial config, then the
   user's config (an ``"all"`` key sets every policy's level), validated against each policy's
   JSON schema; then **Configure** with the result, always, even when the user gave no config.
5. **Analyze** once per resource with its checked inputs, type, URN and name (keys starting with
   ``__``, such as ``__provider``, left out), secrets sent marked secret; then **AnalyzeStack** once
   with every resource. A diagnostic's ``remediate`` level counts as ``mandatory``. A per-resource
   violation is reported against that resource's URN; a stack violation against the URN it names
   when that URN is in the stack, else against the root stack URN. Any mandatory violation fails
   the preview; advisory ones are warnings.

Secrets: a ``LogSource`` wraps ``credentials`` in ``Output.secret``, so the engine sends them to
analyzers marked secret (the pack unwraps them: policies see plaintext). Here, top-level
``credentials`` and every :class:`~sigsentry_pulumi.testing.values.Secret` or SDK secret wrapper
inside ``properties`` go out marked secret the same way. As a second line of defence every secret
string of four characters or more is replaced by ``[secret]`` in violation messages and error texts,
so a policy that quotes a credential cannot leak it through this module.

Not implemented: ``Remediate`` (the engine's first pass; remediation policies are not run),
``GetPluginInfo``, stack config (``PULUMI_CONFIG`` stays unset and ``ConfigureStack`` carries an
empty config: the guardrails pack reads none), stack tags, organization, resource options, parent
and dependency links in ``AnalyzeStack``, policy packs in other languages, and the ``toolchain``
runtime option (the ``virtualenv`` option is honoured; without it the pack runs on the interpreter
running this module, where the CLI would run ``python3`` from ``PATH``). The CLI's engine address
is the address of its own gRPC host, used by packs for logging; there is no such host here, so a
placeholder is passed and a pack's log lines go to its stderr. Two checks are stricter than the
CLI's: a config key that names no policy of any pack, and a config property that a policy's schema
does not declare, are errors rather than silently ignored, so that a typo cannot switch a
guardrail off unnoticed.

Each pack runs in its own process for one call of :func:`run_policy_packs`, started through a tiny
launcher that asks the kernel to kill it when the calling thread dies (Linux ``PR_SET_PDEATHSIG``),
so an interrupted run leaves no orphan; its stdout and stderr are drained by threads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import grpc
import jsonschema_rs
import yaml  # type: ignore[import-untyped]
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from ._process import PortProcess
from .values import Secret, is_unknown, scrub, secret_strings

__all__ = [
    "AnalyzedResource",
    "PolicyConfigError",
    "PolicyPackError",
    "PolicyViolation",
    "PolicyViolationError",
    "run_policy_packs",
]

ENFORCEMENT_LEVELS: Final = ("advisory", "mandatory", "remediate", "disabled")
SECRET_PROPERTY_NAMES: Final = frozenset({"credentials"})
START_TIMEOUT_SECONDS: Final = 60.0
CALL_TIMEOUT_SECONDS: Final = 120.0
STOP_TIMEOUT_SECONDS: Final = 5.0

_SECRET_SIG: Final = {rpc._special_sig_key: rpc._special_secret_sig}
# Where the CLI passes the address of its own gRPC host; the Python pack only parses it.
_ENGINE_ADDRESS_PLACEHOLDER: Final = "127.0.0.1:0"
_OUTPUT_TAIL_LINES: Final = 200
_Redact = Callable[[str], str]
_GRPC_OPTIONS: Final = [("grpc.max_receive_message_length", 400 * 1024 * 1024)]


@dataclass(frozen=True)
class AnalyzedResource:
    """One resource as the engine shows it to policy packs.

    ``properties`` are the checked inputs in plaintext (values still unknown in a preview left
    out, or given as ``pulumi.output.Unknown``); they are kept out of ``repr`` because they hold
    credentials. ``name`` is the resource name (the last part of the URN).
    """

    urn: str
    type: str
    name: str
    properties: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class PolicyViolation:
    """One policy diagnostic: ``enforcement_level`` is ``"advisory"`` or ``"mandatory"``
    (``"remediate"`` is reported as ``"mandatory"``, as the engine does), and ``message`` is what
    the CLI prints: the policy's description, a newline, the policy's own message."""

    pack: str
    policy: str
    enforcement_level: str
    message: str
    urn: str | None

    def __str__(self) -> str:
        """One line, as the CLI's "Policy Violations" section prints it."""
        where = self.urn.rsplit("::", 1)[-1] if self.urn else "stack"
        return f"[{self.enforcement_level}]  {self.pack}  {self.policy} ({where}): " + _one_line(
            self.message
        )


class PolicyViolationError(Exception):
    """A preview failed because at least one policy violation is mandatory.

    ``violations`` holds every violation of the run, advisory ones included.
    """

    def __init__(self, violations: Sequence[PolicyViolation]) -> None:
        self.violations = list(violations)
        mandatory = [v for v in self.violations if v.enforcement_level == "mandatory"]
        lines = [f"  [{v.pack}/{v.policy}] {v.urn}: {_one_line(v.message)}" for v in mandatory]
        super().__init__(
            f"preview failed: {len(mandatory)} mandatory policy violation(s); fix them or lower "
            "the policy's enforcementLevel in the policy pack config:\n" + "\n".join(lines)
        )


class PolicyPackError(RuntimeError):
    """A policy pack could not be loaded or started, or a policy failed while running."""


class PolicyConfigError(ValueError):
    """The policy pack config does not fit the pack's policies or their config schemas."""


def run_policy_packs(
    packs: Sequence[Path | str],
    resources: Sequence[AnalyzedResource],
    *,
    config: Mapping[str, Any] | None = None,
    project: str,
    stack: str,
) -> list[PolicyViolation]:
    """Run each policy pack folder over ``resources`` as ``pulumi preview --policy-pack`` would.

    ``config`` has the shape of a ``--policy-pack-config`` file: policy name to an enforcement
    level string or to an object of config properties (with an optional ``enforcementLevel``);
    ``"all"`` sets every policy's level. It applies to every pack. Returns every violation, in the
    engine's order: each resource through each pack, then each pack's stack policies. Raises
    :class:`PolicyConfigError` for a bad config, :class:`PolicyPackError` when a pack cannot start
    or a policy raises; it does not raise on violations (see :class:`PolicyViolationError`).
    """
    given = _parse_user_config(config)
    redact = _redactor(resources)
    root_urn = f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"
    processes = [_PackProcess(Path(p), project=project, stack=stack) for p in packs]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.connect(redact)
        _configure_all(processes, given)
        violations: list[PolicyViolation] = []
        for resource in resources:
            request = analyzer_pb2.AnalyzeRequest(
                urn=resource.urn,
                type=resource.type,
                name=resource.name,
                properties=_to_struct(resource.properties),
            )
            for process in processes:
                response = process.call("Analyze", request, redact, subject=resource.urn)
                # The engine files every per-resource diagnostic under the analyzed resource.
                violations += _violations(response, redact, resource.urn)
        stack_request = analyzer_pb2.AnalyzeStackRequest(
            resources=[_stack_resource(r) for r in resources]
        )
        known_urns = {r.urn for r in resources}

        def stack_urn(urn: str) -> str:
            return urn if urn in known_urns else root_urn

        for process in processes:
            response = process.call("AnalyzeStack", stack_request, redact, subject="the stack")
            violations += _violations(response, redact, stack_urn)
        return violations
    finally:
        for process in processes:
            process.stop()


# -- the pack process ---------------------------------------------------------------------------


class _PackProcess:
    """One policy pack process, started as the engine starts it, and a gRPC stub to it."""

    def __init__(self, pack_dir: Path, *, project: str, stack: str) -> None:
        self.pack_dir = pack_dir.resolve()
        self.project = project
        self.stack = stack
        self.info: Any = None
        self._process: PortProcess | None = None
        self._channel: grpc.Channel | None = None
        self._stub: Any = None

    @property
    def name(self) -> str:
        return str(self.info.name) if self.info is not None else str(self.pack_dir)

    def start(self) -> None:
        python = _pack_interpreter(self.pack_dir)
        # The engine hands the runtime options (`-virtualenv=venv`) to the shim, which uses them
        # to pick the interpreter and passes only the first two arguments on: `pulumi.policy`'s
        # own parser would read `-virtualenv=...` as `-v irtualenv=...` and stop.
        argv = [python, "-u", "-m", "pulumi.policy", _ENGINE_ADDRESS_PLACEHOLDER, "."]
        env = {
            **os.environ,
            "PULUMI_PROJECT": self.project,
            "PULUMI_STACK": self.stack,
            "PULUMI_DRY_RUN": "true",
        }
        self._process = PortProcess(
            argv,
            cwd=self.pack_dir,
            env=env,
            name="policy-pack-reader",
            max_lines=_OUTPUT_TAIL_LINES,
        )

    def connect(self, redact: _Redact) -> None:
        """Read the port, open the channel, then Handshake and ConfigureStack as the engine does."""
        assert self._process is not None
        port = self._process.wait_port(START_TIMEOUT_SECONDS)
        if port is None:
            raise PolicyPackError(
                f"policy pack {self.pack_dir} failed to start: it printed no port on stdout "
                f"within {START_TIMEOUT_SECONDS:.0f} s (is pulumi-policy installed for its "
                f"interpreter?). Its output:\n{redact(self.output_tail())}"
            )
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_GRPC_OPTIONS)
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT_SECONDS)
        except grpc.FutureTimeoutError:
            raise PolicyPackError(
                f"policy pack {self.pack_dir} printed port {port} but accepts no gRPC "
                f"connection there. Its output:\n{redact(self.output_tail())}"
            ) from None
        directory = str(self.pack_dir)
        handshake = analyzer_pb2.AnalyzerHandshakeRequest(
            engine_address=_ENGINE_ADDRESS_PLACEHOLDER,
            root_directory=directory,
            program_directory=directory,
        )
        # Python packs do not implement Handshake; the engine ignores its failure.
        with contextlib.suppress(grpc.RpcError):
            self._stub.Handshake(handshake, timeout=CALL_TIMEOUT_SECONDS)
        stack_request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack, project=self.project, dry_run=True
        )
        try:
            self._stub.ConfigureStack(stack_request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise self._failure("ConfigureStack", exc, redact, "the stack") from None
        self.info = self.call("GetAnalyzerInfo", empty_pb2.Empty(), redact, subject="its info")

    def call(self, method: str, request: Any, redact: _Redact, *, subject: str) -> Any:
        try:
            return getattr(self._stub, method)(request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            raise self._failure(method, exc, redact, subject) from None

    def _failure(self, method: str, exc: grpc.RpcError, redact: _Redact, subject: str) -> Exception:
        details = exc.details() or ""
        return PolicyPackError(
            redact(
                f"policy pack {self.name} failed in {method} for {subject} "
                f"({exc.code().name}): {details.strip()}\nIts output:\n{self.output_tail()}"
            )
        )

    def output_tail(self) -> str:
        return self._process.output(last=40) if self._process is not None else ""

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
        if self._process is not None:
            # The pack's serve loop stops cleanly on SIGINT (KeyboardInterrupt), as under the CLI.
            self._process.stop(signal.SIGINT, STOP_TIMEOUT_SECONDS)


def _pack_interpreter(pack_dir: Path) -> str:
    """The interpreter the shim would run for this pack (its ``virtualenv`` runtime option)."""
    manifest = pack_dir / "PulumiPolicy.yaml"
    if not manifest.is_file():
        raise PolicyPackError(
            f"{pack_dir} is not a policy pack: it has no PulumiPolicy.yaml. Pass the folder that "
            "holds PulumiPolicy.yaml and __main__.py."
        )
    document = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    runtime = document.get("runtime") if isinstance(document, Mapping) else None
    name, options = (runtime, {}) if isinstance(runtime, str) else _runtime_parts(runtime)
    if name != "python":
        raise PolicyPackError(
            f"{manifest}: runtime is {name!r}; only Python policy packs (runtime: python) can run "
            "here."
        )
    virtualenv = options.get("virtualenv")
    if not virtualenv:
        return sys.executable
    python = (pack_dir / str(virtualenv)).resolve() / "bin" / "python"
    if not python.exists():
        raise PolicyPackError(
            f"{manifest} names the virtualenv {virtualenv!r}, but {python} does not exist. Create "
            f"it: python -m venv {pack_dir / str(virtualenv)} and install requirements.txt."
        )
    return str(python)


def _runtime_parts(runtime: Any) -> tuple[Any, dict[str, Any]]:
    if not isinstance(runtime, Mapping):
        return None, {}
    options = runtime.get("options")
    return runtime.get("name"), dict(options) if isinstance(options, Mapping) else {}


# -- config -------------------------------------------------------------------------------------


@dataclass
class _PolicyConfig:
    enforcement_level: str
    properties: dict[str, Any] = field(default_factory=dict)


def _parse_user_config(config: Mapping[str, Any] | None) -> dict[str, _PolicyConfig | None]:
    """Split each entry into (level or None, properties), as the CLI parses a config file."""
    parsed: dict[str, _PolicyConfig | None] = {}
    for policy, value in (config or {}).items():
        if isinstance(value, str):
            parsed[policy] = _PolicyConfig(_level(value, policy), {})
        elif isinstance(value, Mapping):
            properties = {k: v for k, v in value.items() if k != "enforcementLevel"}
            level = value.get("enforcementLevel")
            parsed[policy] = _PolicyConfig(
                _level(level, policy) if level is not None else "", properties
            )
        else:
            raise PolicyConfigError(
                f"policy pack config[{policy!r}] must be an enforcement level string or an "
                f"object of config properties, not {type(value).__name__}."
            )
    return parsed


def _level(value: Any, policy: str) -> str:
    if value not in ENFORCEMENT_LEVELS:
        raise PolicyConfigError(
            f"policy pack config[{policy!r}]: enforcementLevel {value!r} is not one of "
            f"{', '.join(ENFORCEMENT_LEVELS)}."
        )
    return str(value)


def _configure_all(processes: Sequence[_PackProcess], given: Mapping[str, Any]) -> None:
    known = {policy.name for p in processes for policy in p.info.policies}
    unknown = sorted(set(given) - known - {"all"})
    if unknown:
        raise PolicyConfigError(
            f"policy pack config names no policy of the pack(s): {', '.join(unknown)}. Known "
            f"policies: {', '.join(sorted(known))}."
        )
    for process in processes:
        reconciled = _reconcile(process.info, given)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for policy, cfg in reconciled.items():
            entry = request.policyConfig[policy]
            entry.enforcementLevel = analyzer_pb2.EnforcementLevel.Value(
                cfg.enforcement_level.upper()
            )
            entry.properties.update(cfg.properties)
        process.call("Configure", request, lambda text: text, subject="its config")


def _reconcile(info: Any, given: Mapping[str, _PolicyConfig | None]) -> dict[str, _PolicyConfig]:
    """Defaults from each policy's schema, then the pack's initial config, then the user's."""
    schemas = {p.name: json_format.MessageToDict(p.configSchema) for p in info.policies}
    result = {
        p.name: _PolicyConfig(
            _level_name(p.enforcementLevel),
            {
                key: prop["default"]
                for key, prop in schemas[p.name].get("properties", {}).items()
                if "default" in prop
            },
        )
        for p in info.policies
    }
    initial = {
        name: _PolicyConfig(
            _level_name(cfg.enforcementLevel), json_format.MessageToDict(cfg.properties)
        )
        for name, cfg in info.initialConfig.items()
    }
    _apply(result, initial)
    _apply(result, given)
    errors = [
        f"{policy}: {error}"
        for policy, cfg in result.items()
        for error in _schema_errors(schemas[policy], cfg.properties)
    ]
    if errors:
        raise PolicyConfigError(
            f"policy pack {info.name} config is invalid; fix these entries:\n  "
            + "\n  ".join(sorted(errors))
        )
    return result


def _apply(result: dict[str, _PolicyConfig], config: Mapping[str, _PolicyConfig | None]) -> None:
    everything = config.get("all")
    if everything is not None and everything.enforcement_level:
        for cfg in result.values():
            cfg.enforcement_level = everything.enforcement_level
    for policy, given in config.items():
        if policy == "all" or policy not in result or given is None:
            continue
        if given.enforcement_level:
            result[policy].enforcement_level = given.enforcement_level
        result[policy].properties.update(given.properties)


def _schema_errors(schema: Mapping[str, Any], properties: Mapping[str, Any]) -> list[str]:
    declared = schema.get("properties", {})
    errors = [
        f"{key}: not a config property of this policy (it takes: "
        f"{', '.join(sorted(declared)) or 'enforcementLevel only'})"
        for key in properties
        if key not in declared
    ]
    validator = jsonschema_rs.Draft7Validator(
        {"type": "object", "properties": declared, "required": schema.get("required", [])}
    )
    for error in validator.iter_errors(dict(properties)):
        path = ".".join(str(part) for part in error.instance_path) or "(config)"
        errors.append(f"{path}: {error.message}")
    return errors


def _level_name(level: int) -> str:
    return str(analyzer_pb2.EnforcementLevel.Name(level)).lower()


# -- wire format --------------------------------------------------------------------------------


def _to_struct(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    """The properties as the engine marshals them for analyzers: internal keys skipped,
    unknowns as the unknown sentinel, secrets wrapped in the secret signature."""
    struct = struct_pb2.Struct()
    struct.update(
        {
            key: _wire(value, secret=key in SECRET_PROPERTY_NAMES)
            for key, value in properties.items()
            if not key.startswith("__")
        }
    )
    return struct


def _wire(value: Any, *, secret: bool = False) -> Any:
    if secret:
        return {**_SECRET_SIG, "value": _wire(value)}
    if isinstance(value, Secret):
        return _wire(value.value, secret=True)
    if rpc.is_rpc_secret(value):
        return _wire(rpc.unwrap_rpc_secret(value), secret=True)
    if is_unknown(value):
        return rpc.UNKNOWN
    if isinstance(value, Mapping):
        return {str(key): _wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return value


def _stack_resource(resource: AnalyzedResource) -> Any:
    return analyzer_pb2.AnalyzerResource(
        urn=resource.urn,
        type=resource.type,
        name=resource.name,
        properties=_to_struct(resource.properties),
    )


def _violations(
    response: Any, redact: _Redact, urn: str | Callable[[str], str]
) -> list[PolicyViolation]:
    """``urn`` is the URN to file every diagnostic under, or a function of the diagnostic's."""
    found = []
    for diagnostic in response.diagnostics:
        level = _level_name(diagnostic.enforcementLevel)
        found.append(
            PolicyViolation(
                pack=diagnostic.policyPackName,
                policy=diagnostic.policyName,
                enforcement_level="mandatory" if level == "remediate" else level,
                message=redact(diagnostic.message),
                urn=urn if isinstance(urn, str) else urn(diagnostic.urn),
            )
        )
    return found


# -- secrets ------------------------------------------------------------------------------------


def _redactor(resources: Sequence[AnalyzedResource]) -> _Redact:
    """A function that replaces every secret string of the resources with ``[secret]``."""
    secrets = secret_strings(
        Secret(value) if key in SECRET_PROPERTY_NAMES else value
        for resource in resources
        for key, value in resource.properties.items()
    )
    return lambda text: scrub(text, secrets)


def _one_line(message: str) -> str:
    return " ".join(message.split())
