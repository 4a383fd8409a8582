"""``Stack``: preview, up, refresh and destroy a Pulumi program without the Pulumi CLI.

Each operation starts its own real provider plugin (``python -m pulumi.dynamic``), configures it
with the whole stack config (secrets in plaintext, as the engine sends them), runs the program in
this process (``program.py``), applies the engine's step logic (``deployment.py``) and keeps the
stack state in an encrypted JSON file (``state.py``). ``up`` is a preview deployment followed by an
update deployment, each with its own plugin process, as ``pulumi up`` does.

What of the real engine is not reproduced is listed in docs/engine.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from .deployment import PROVIDER_KEY, Deployment, destroy, refresh
from .errors import EngineError
from .plugin import ProviderPlugin
from .program import load_program, run_program
from .results import OperationResult, Step
from .state import ResourceState, StackState, StateFile
from .values import Secret, secret_strings

__all__ = ["PASSPHRASE_ENV", "Stack"]

PASSPHRASE_ENV: Final = "PULUMI_CONFIG_PASSPHRASE"  # noqa: S105 - a variable name


class Stack:
    """One stack of one program, its state kept in ``state_file``.

    ``program`` is a Pulumi project folder (``Pulumi.yaml`` + ``__main__.py``) or a function.
    ``config`` keys are namespaced (``sigsentry:apiKey``, ``<project>:awsKeyId``); wrap secret
    values in :class:`Secret`. Defaults declared under ``config:`` in ``Pulumi.yaml`` apply.
    ``passphrase`` encrypts the secrets in the state file (default: ``$PULUMI_CONFIG_PASSPHRASE``,
    else empty, as Pulumi allows). ``env`` is added to the provider plugin's environment (the
    program itself runs in this process, with its environment).
    """

    def __init__(
        self,
        program: Path | str | Callable[[], None],
        *,
        state_file: Path,
        config: Mapping[str, str | Secret] | None = None,
        project: str | None = None,
        stack: str = "dev",
        passphrase: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._program = load_program(program, project)
        self.project = self._program.project
        self.name = stack
        self._config = {**self._program.config_defaults, **_validated(config or {})}
        if passphrase is None:
            passphrase = os.environ.get(PASSPHRASE_ENV, "")
        self._state = StateFile(Path(state_file), passphrase)
        self._env = {"PULUMI_PROJECT": self.project, "PULUMI_STACK": stack, **(env or {})}
        self._plugin_output: list[str] = []

    def __repr__(self) -> str:
        return f"Stack(project={self.project!r}, stack={self.name!r}, state={self._state.path})"

    # -- operations -------------------------------------------------------------------------

    def preview(
        self,
        *,
        policy_packs: Sequence[Path | str] = (),
        policy_config: Mapping[str, Any] | None = None,
    ) -> OperationResult:
        """Plan an update: Check and Diff only, nothing written, state untouched.

        With ``policy_packs``, every checked resource then goes through the packs; a mandatory
        violation raises ``PolicyViolationError`` (from ``sigsentry_pulumi.testing.policy``).
        """
        state = self._state.load()
        with self._plugin() as plugin:
            deployment, outputs = self._deploy(plugin, state, preview=True)
        violations = []
        if policy_packs:
            violations = self._run_policy_packs(deployment, policy_packs, policy_config)
        return OperationResult("preview", deployment.steps, outputs, violations)

    def up(self) -> OperationResult:
        """Preview, then update: create, update, replace and delete to match the program."""
        state = self._state.load()
        update_plugin = self._new_plugin().launch()  # starts up while the preview runs
        try:
            with self._plugin() as plugin:
                self._deploy(plugin, state, preview=True)
            with self._plugin(update_plugin) as plugin:
                deployment, outputs = self._deploy(plugin, state, preview=False)
        finally:
            update_plugin.stop()
        return OperationResult("up", deployment.steps, outputs)

    def refresh(self) -> OperationResult:
        """Read every resource back: drift recorded in state, vanished resources dropped."""
        state = self._state.load()
        with self._plugin() as plugin:
            steps, refreshed = refresh(plugin, state, self._secrets(state))
        self._state.save(refreshed)
        return OperationResult("refresh", steps, refreshed.outputs)

    def destroy(self) -> OperationResult:
        """Delete every resource of the stack, dependents first."""
        state = self._state.load()
        steps: list[Step] = []
        with self._plugin() as plugin:
            left, error = destroy(plugin, state, self._secrets(state), steps)
        self._state.save(left)
        if error is not None:
            error.steps = steps
            raise error
        return OperationResult("destroy", steps, {})

    # -- state ------------------------------------------------------------------------------

    def resources(self) -> list[ResourceState]:
        """The resources the stack's state holds now (secret values as :class:`Secret`)."""
        return list(self._state.load().resources)

    def outputs(self) -> dict[str, Any]:
        """The stack outputs recorded by the last ``up`` (secret ones as :class:`Secret`)."""
        return dict(self._state.load().outputs)

    @property
    def plugin_output(self) -> str:
        """Everything the provider plugins of this ``Stack`` printed (where secrets must not be)."""
        return "".join(self._plugin_output)

    # -- internals --------------------------------------------------------------------------

    @contextmanager
    def _plugin(self, plugin: ProviderPlugin | None = None) -> Iterator[ProviderPlugin]:
        """A started plugin, configured with the whole stack config (secrets in plaintext)."""
        plugin = plugin or self._new_plugin()
        try:
            plugin.start()
            plugin.configure(self._config)
            yield plugin
        finally:
            plugin.stop()  # the readers are joined: the output is complete
            self._plugin_output.append(plugin.output)

    def _new_plugin(self) -> ProviderPlugin:
        return ProviderPlugin(cwd=self._program.folder or Path.cwd(), env=self._env)

    def _secrets(self, state: StackState) -> set[str]:
        values: list[Any] = list(self._config.values())
        for resource in [*state.resources, *state.pending_deletions]:
            values += [resource.inputs, resource.outputs]
        return secret_strings(values)

    def _deploy(
        self, plugin: ProviderPlugin, state: StackState, *, preview: bool
    ) -> tuple[Deployment, dict[str, Any]]:
        secrets = self._secrets(state)
        deployment = Deployment(plugin, state, preview=preview, secrets=secrets)
        try:
            outputs = run_program(
                self._program,
                stack=self.name,
                config=self._config,
                preview=preview,
                handler=deployment,
                secrets=secrets,
            )
            deployment.finish()
        except EngineError as error:
            if not preview:
                self._state.save(deployment.state(state.outputs))
            error.steps = list(deployment.steps)
            raise
        if not preview:
            self._state.save(deployment.state(outputs))
        return deployment, outputs

    def _run_policy_packs(
        self,
        deployment: Deployment,
        packs: Sequence[Path | str],
        config: Mapping[str, Any] | None,
    ) -> list[Any]:
        # Imported here: policy packs need the `policy` extra, previews without packs do not.
        from .policy import AnalyzedResource, PolicyViolationError, run_policy_packs

        resources = [
            AnalyzedResource(
                urn=registration.urn,
                type=registration.type,
                name=registration.name,
                # Unknowns go to the pack as the engine's unknown sentinel (the engine marshals
                # analyzer inputs with KeepUnknowns): pulumi-policy then skips a policy that reads
                # one, with an advisory note, instead of judging a value that is not known yet.
                properties={key: value for key, value in checked.items() if key != PROVIDER_KEY},
            )
            for registration, checked in deployment.checked.values()
        ]
        violations = run_policy_packs(
            packs, resources, config=config, project=self.project, stack=self.name
        )
        if any(v.enforcement_level == "mandatory" for v in violations):
            raise PolicyViolationError(violations)
        return list(violations)


def _validated(config: Mapping[str, str | Secret]) -> dict[str, str | Secret]:
    for key, value in config.items():
        if ":" not in key:
            raise EngineError(
                f"config key {key!r} has no namespace: write '<project>:{key}' for the "
                f"program's own settings or 'sigsentry:{key}' for the provider's"
            )
        plain = value.value if isinstance(value, Secret) else value
        if not isinstance(plain, str):
            raise EngineError(
                f"config value of {key!r} must be a string (as `pulumi config set` stores it), "
                f"not {type(plain).__name__}; use json.dumps for structured values"
            )
    return dict(config)
