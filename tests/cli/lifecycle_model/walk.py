"""One seeded walk: random program edits and Pulumi commands, faults, recoveries, and the
invariants after every step.

Every random choice comes from one `random.Random(seed)`, drawn step by step, so a walk is
determined by its seed and its first N steps do not depend on how many follow: a failing walk
is replayed with `--lifecycle-seed SEED` (the moment a kill lands and what the retries meet can
still vary with the machine's speed). A walk stops at its first violation and raises
`WalkFailed` with the seed, the steps so far and the problems.

What the walk expects is what was applied: `applied[key]` is what SigSentry should hold for a
declared source after the last command that applied it (model.expected_live, with the
properties in its `ignore_changes` kept from before), or None when it should not exist. A full
`up` applies every declared source; `up --target` only the targeted one; `destroy` none.
"""

from __future__ import annotations

import collections
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cli.lifecycle_model import faults as fault_table
from cli.lifecycle_model import invariants
from cli.lifecycle_model.model import (
    BROKEN_HOST,
    GOOD_HOST,
    INVALID_CREDENTIAL,
    Declared,
    Edits,
    Model,
    credentials,
    describe,
    expected_live,
)
from cli.lifecycle_model.operations import Command, Outcome, run
from cli.stacks import backend_files
from raw_api import LOG_SOURCES, auth
from tools.pulumi_cli import PulumiEnvironment, config_values

PROJECT = "lifecycle-walk"
STACK = "walk"

KNOWN_DEFECTS: dict[str, str] = {
    # Step kinds left out of generation while a product defect they hit is being fixed. Remove
    # an entry once its fix is on main: the walks then cover that path again. Empty: every
    # defect these walks found is fixed (docs/lifecycle-checker.md lists them).
}

COMMAND_WEIGHTS = {"up": 10, "target": 2, "replace": 2, "refresh": 2, "destroy": 1}
EDIT_WEIGHTS = {
    "add": 4,
    "remove": 2,
    "rename": 2,
    "rotate": 3,
    "sources": 2,
    "active": 2,
    "verify": 2,
    "type": 2,
    "project": 1,
    "rename-resource": 2,
    "move": 2,
    "option": 3,
    "adopt": 2,
    "drop-adopt-id": 1,
    "verify-create-fails": 1,
    "verify-update-fails": 1,
}
TARGET_EDITS = ("rename", "rotate", "sources", "active", "verify", "type")
"""Edits an `up --target` step makes to its target (renames would change the URN)."""
FAULT_RATE = 0.35
VERIFY_FAILED = "could not verify"
PROTECTED = "protected"


class WalkFailed(AssertionError):
    pass


@dataclass
class Figures:
    steps: int = 0
    commands: int = 0
    recoveries: int = 0
    faults: collections.Counter[str] = field(default_factory=collections.Counter)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "commands": self.commands,
            "recoveries": self.recoveries,
            "faults": dict(self.faults),
            "seconds": round(self.seconds, 1),
        }


class Walk:
    def __init__(
        self,
        seed: int,
        env: PulumiEnvironment,
        emulator: Any,
        excluded: Callable[[str], bool] = KNOWN_DEFECTS.__contains__,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.env = env
        self.emulator = emulator
        self.excluded = excluded
        self.figures = Figures()
        self.history: list[str] = []
        self.credentials: dict[str, str] = {}
        self.before_breaking: dict[str, str] = {}
        self.edits = Edits(self.rng, self.credentials, excluded)
        self.applied: dict[str, dict[str, Any] | None] = {}
        self.retainable: set[str] = set()
        self.made_out_of_band: set[str] = set()
        self.secrets: set[str] = {emulator.admin_token}
        self.fully_applied = True
        self.failed = False
        self.report = ""
        self.work = env.base / "walk"
        self.work.mkdir(parents=True, exist_ok=True)
        self.model_path = self.work / "model.json"
        # A tenant-scoped key, so a source can move to another project of the tenant.
        key = emulator.create_key(project_id=None)
        self.api_key = key.api_key
        self.secrets.add(self.api_key)
        self.model = Model(
            projects={"main": emulator.project_id, "other": emulator.create_project()}
        )
        self.stack = env.inline_stack(lambda: None, project=PROJECT, stack=STACK)
        self.stack.set_all_config(
            config_values(
                PROJECT,
                {"sigsentry:apiUrl": emulator.url, "sigsentry:projectId": emulator.project_id},
                {"sigsentry:apiKey": self.api_key},
            )
        )
        self.written_credentials: dict[str, str] = {}
        self.step_config: dict[str, str] = {}
        self.last_state: list[dict[str, Any]] = []

    # --- the walk ------------------------------------------------------------------------------

    def run(self, steps: int) -> Figures:
        self.edits.add(self.model)
        self.edits.add(self.model)
        self.history.append("start: " + "; ".join(self._declared_summary()))
        self._full_up(Command("up"), "initial up")
        for _ in range(steps):
            self.figures.steps += 1
            self.step()
        return self.figures

    def step(self) -> None:
        kind = self._choose(COMMAND_WEIGHTS)
        if kind == "target" and not self._targetable():
            kind = "up"
        if kind == "up":
            self._up_step()
        elif kind == "target":
            self._target_step()
        elif kind == "replace":
            self._replace_step()
        elif kind == "refresh":
            self._refresh_step()
        else:
            self._destroy_step()

    def _up_step(self) -> None:
        done = []
        for _ in range(self.rng.choice([1, 1, 2])):
            description = self._edit(self._choose(EDIT_WEIGHTS))
            if description:
                done.append(description)
        expect = VERIFY_FAILED if self._broken() else None
        self._full_up(Command("up"), "; ".join(done) or "no edit", expect_failure=expect)

    def _broken(self) -> list[Declared]:
        """The sources whose credential test must fail: verify=True with a credential value
        `invalid`, or a Loki host on `.invalid` (a later edit in the step may have undone it)."""
        return [
            d
            for d in self.model.declared
            if d.verify
            and (
                self.credentials[d.key] == INVALID_CREDENTIAL
                or (d.type == "loki" and d.host == BROKEN_HOST)
            )
        ]

    def _target_step(self) -> None:
        source = self.rng.choice(
            [d for d in self.model.declared if not d.protect and self._in_state(d)]
        )
        edit = self.rng.choice([e for e in TARGET_EDITS if not self.excluded(e)])
        description = self._edit(edit, only=source)
        urn = self._urn(source)
        expect = VERIFY_FAILED if self._broken() else None
        command = Command("up", target=[urn])
        self._converge(command, description or "no edit", expect, lambda: self._apply(source))

    def _replace_step(self) -> None:
        in_state = [
            d
            for d in self.model.declared
            if self._in_state(d)
            and not d.protect
            # Deleting first, then adopting the id just deleted, fails by design: the docs
            # (docs/provider.md, forced replacements) tell the user to remove adopt_id.
            and not (d.adopt_id and d.delete_before_replace)
        ]
        if not in_state:
            return self._up_step()
        source = self.rng.choice(in_state)
        self._full_up(Command("up", replace=[self._urn(source)]), f"force {source.key}")

    def _refresh_step(self) -> None:
        if self._command(Command("refresh"), "no edit") is not None:
            self._check_converged()

    def _destroy_step(self) -> None:
        protected = [d.key for d in self.model.declared if d.protect and self._in_state(d)]
        expect = PROTECTED if protected else None
        outcome = self._command(Command("destroy"), "no edit", expect_failure=expect)
        if outcome is None:
            return
        if not outcome.ok:  # refused for the protected sources: lift it, converge, destroy
            kept = {r["urn"].rsplit("::", 1)[-1] for r in self._observe().resources}
            for declared in self.model.declared:
                if declared.resource_name not in kept:
                    # deleted before the refusal: the next up creates it with the program's
                    # values, whatever ignore_changes names
                    self.applied[declared.key] = None
            self._note(self.edits.unprotect_all(self.model) or "")
            self._forget_destroyed_adoptions()  # the others may be deleted already
            self._full_up(Command("up"), "recovery: unprotect")
            if self._command(Command("destroy"), "recovery: destroy again") is None:
                return
        self._destroyed()

    def _destroyed(self) -> None:
        for key in self.applied:
            self.applied[key] = None
        self.fully_applied = not self.model.declared
        self._check_converged()
        self._forget_destroyed_adoptions()

    # --- edits ---------------------------------------------------------------------------------

    def _edit(self, kind: str, only: Declared | None = None) -> str | None:
        """Make one edit and describe it (None: it did not apply to this program)."""
        if self.excluded(kind):
            kind = "rotate"
        edits = self.edits
        simple: dict[str, Callable[[Model], str | None]] = {
            "remove": edits.remove,
            "rename": edits.rename,
            "rotate": edits.rotate,
            "sources": edits.change_sources,
            "active": edits.toggle_active,
            "verify": edits.toggle_verify,
            "type": edits.change_type,
            "project": edits.change_project,
            "rename-resource": edits.rename_resource,
            "move": edits.move,
            "option": edits.toggle_option,
            "drop-adopt-id": edits.drop_adopt_id,
        }
        if kind == "add":
            return edits.add(self.model)
        if kind == "adopt":
            return edits.adopt(self.model, self._make_out_of_band)
        if kind == "verify-create-fails":
            return edits.add(self.model, broken=True)
        if kind == "verify-update-fails":
            return self._break_credentials()
        edits.only = only
        try:
            return simple[kind](self.model)
        finally:
            edits.only = None

    def _break_credentials(self) -> str | None:
        source = self.rng.choice(self.model.declared) if self.model.declared else None
        if source is None:
            return None
        source.verify = True
        if self.credentials[source.key] != INVALID_CREDENTIAL:  # broken twice: keep the first
            self.before_breaking[source.key] = self.credentials[source.key]
        self.credentials[source.key] = INVALID_CREDENTIAL
        return f"{source.key}: verify=True with credentials the test refuses"

    def _fix_credentials(self) -> str:
        """Undo the broken credentials, as a user would: back to what they were (which the
        state still holds), or on to new ones."""
        fixed = []
        for source in self._broken():
            before = self.before_breaking.pop(source.key, None)
            back = before is not None and self.rng.random() < 0.5
            if before is not None and back:
                self.credentials[source.key] = before
            else:
                self.credentials[source.key] = self.edits.new_credential()
            source.host = GOOD_HOST
            fixed.append(f"{source.key} ({'back to the old ones' if back else 'new ones'})")
        return f"fix the credentials of {', '.join(fixed)}"

    def _forget_destroyed_adoptions(self) -> None:
        """A destroy deletes adopted sources too, and `up` cannot adopt a source that is gone
        (it fails naming the fix: remove adopt_id); drop adopt_id as that message says."""
        live = {str(s["id"]) for s in self._live()}
        held = {r["urn"].rsplit("::", 1)[-1] for r in self._observe().resources}
        for source in self.model.declared:
            if source.adopt_id and source.adopt_id not in live and source.resource_name not in held:
                self._note(f"{source.key}: adopt_id removed, its source was destroyed")
                source.adopt_id = None

    def _make_out_of_band(self, source: Declared) -> str:
        """A source made in SigSentry by hand, with other fields and credentials than the
        program's, for `source` to adopt."""
        made_with = self.edits.new_credential()
        self.secrets.add(made_with)
        body = {
            "type": source.type,
            "name": f"by-hand-{source.key}",
            "credentials": credentials(source, made_with),
            "sources": ["by-hand"],
        }
        project = self.model.projects[source.project or "main"]
        with httpx.Client(base_url=self.emulator.url, timeout=30) as client:
            made = client.post(LOG_SOURCES, json=body, headers=self._headers(project))
        made.raise_for_status()
        source_id = str(made.json()["data"]["id"])
        self.made_out_of_band.add(source_id)
        return source_id

    # --- commands ------------------------------------------------------------------------------

    def _full_up(self, command: Command, what: str, expect_failure: str | None = None) -> None:
        self._converge(command, what, expect_failure, lambda: self._apply_all(forced=command))

    def _converge(
        self,
        command: Command,
        what: str,
        expect_failure: str | None,
        record_applied: Callable[[], None],
    ) -> None:
        """Run `command`; once it succeeds, record what it applied and check the invariants."""
        outcome = self._command(command, what, expect_failure=expect_failure)
        if outcome is None:
            return
        if not outcome.ok:  # the expected failure: fix the program, then it must converge
            self._note(self._fix_credentials())
            self._full_up(Command("up"), "fixed program")
            return
        record_applied()
        self._check_converged()

    def _command(
        self, command: Command, what: str, expect_failure: str | None = None
    ) -> Outcome | None:
        """Run one command of a step, with a fault drawn for it. A failure the step did not
        expect is a violation unless its fault may make it fail: then the failure must name
        its cause, the weaker invariants must hold, and the documented recovery must
        converge (and None is returned: the step is over)."""
        fault = None
        if expect_failure is None and self.rng.random() < FAULT_RATE:
            names = [n for n in fault_table.available() if not self.excluded(n)]
            fault = fault_table.FAULTS[self.rng.choice(names)]
        kill_after = self.rng.uniform(0.5, 6.0) if fault is not None and fault.kill else None
        self._write_program(fault.config if fault else {})
        self._note_retainable()
        if fault is not None and not fault.kill:
            self.emulator.set_faults(fault_table.spec(fault, self.rng))
        try:
            outcome = self._run(command, kill_after=kill_after)
        finally:
            if fault is not None and not fault.kill:
                self.emulator.clear_faults()
        if fault is not None:
            self.figures.faults[fault.name] += 1
        result = "ok" if outcome.ok else ("killed" if outcome.killed else "failed")
        changes = ", ".join(f"{k} {n}" for k, n in sorted(outcome.changes.items()))
        self.history.append(
            f"{len(self.history)}. {what}; {command}"
            + (f" [fault {fault.name}]" if fault else "")
            + f" -> {result}{f' ({changes})' if changes else ''}"
        )
        if outcome.timed_out:
            self._fail([f"`{command}` did not finish within its time limit"], outcome)
        if expect_failure is not None:
            if outcome.ok:
                self._fail([f"`{command}` succeeded; expected it to fail ({expect_failure})"])
            if expect_failure not in outcome.error:
                self._fail([f"`{command}` failed without naming {expect_failure!r}"], outcome)
            self._check(invariants.weak(self._observe()))
            return outcome
        if outcome.ok:
            return outcome
        if fault is None or not fault.may_fail:
            under = f" under fault {fault.name}, which retries must ride out" if fault else ""
            self._fail([f"`{command}` failed{under}"], outcome)
        if not outcome.killed:
            cause = fault.cause if fault and fault.cause else "SigSentry"
            if cause.lower() not in outcome.error.lower():
                self._fail([f"`{command}` failed without naming its cause ({cause!r})"], outcome)
        self._check(invariants.weak(self._observe()))
        self._recover(command, outcome)
        return None

    def _recover(self, failed: Command, outcome: Outcome) -> None:
        """README's and docs/provider.md's steps after a failed or killed command."""
        self.figures.recoveries += 1
        if outcome.killed:
            self._must(Command("cancel"), "recovery: the killed CLI may have left a lock", True)
        if failed.op == "destroy" and self.rng.random() < 0.5:
            self._must(Command("destroy"), "recovery: finish the destroy")
            return self._destroyed()
        if failed.op == "destroy":
            self._must(Command("refresh"), "recovery: keep the sources, see what is left")
        self._forget_destroyed_adoptions()
        # A forced replacement is not in the program, so a plain `up` would not repeat it:
        # the same `up --replace` comes first (docs/provider.md), replaying a lost create.
        self._must(Command("up", replace=failed.replace), "recovery")
        self._must(Command("refresh", clear_pending_creates=True), "recovery")
        if failed.replace:
            # A crash between a forced replacement's create and its delete: that `up` deleted
            # the source the stack holds twice, the refresh dropped it, this `up` makes it again.
            self._must(Command("up"), "recovery of a forced replacement")
        self._apply_all(forced=failed if failed.replace else None)
        self._check_converged()

    def _must(self, command: Command, what: str, may_fail: bool = False) -> Outcome:
        self._write_program({})
        self._note_retainable()
        outcome = self._run(command)
        changes = ", ".join(f"{k} {n}" for k, n in sorted(outcome.changes.items()))
        self.history.append(
            f"{len(self.history)}. {what}; {command} -> {'ok' if outcome.ok else 'failed'}"
            + (f" ({changes})" if changes else "")
        )
        if not outcome.ok and not may_fail:
            self._fail([f"`{command}` failed, with no fault injected"], outcome)
        return outcome

    def _run(self, command: Command, kill_after: float | None = None) -> Outcome:
        self.figures.commands += 1
        outcome = run(self.env, self.stack, self.model_path, command, kill_after=kill_after)
        self.figures.seconds += outcome.seconds
        leaked = invariants.leaks({f"the output of `{command}`": outcome.output}, self._secrets())
        if leaked:
            self._fail(leaked, outcome)
        return outcome

    def _write_program(self, extra_config: Mapping[str, str]) -> None:
        """The model for the child process, and the stack config it needs (credential values
        as secrets, the fault's settings), set only where they changed."""
        self.model.save(self.model_path)
        changed = {
            d.credential_key: self.credentials[d.key]
            for d in self.model.declared
            if self.written_credentials.get(d.credential_key) != self.credentials[d.key]
        }
        for key in set(self.step_config) - set(extra_config):
            self.stack.remove_config(key)
        plain = {k: v for k, v in extra_config.items() if self.step_config.get(k) != v}
        if changed or plain:
            self.stack.set_all_config(config_values(PROJECT, plain, changed))
        self.written_credentials.update(changed)
        self.step_config = dict(extra_config)

    # --- what was applied ----------------------------------------------------------------------

    def _apply(self, source: Declared, forced: bool = False) -> None:
        """Record what SigSentry holds for `source` once a command applied it: the program's
        values, but an update keeps the `ignore_changes` properties as they were (a
        replacement, by a type or project change or forced, is created with the new values)."""
        want = expected_live(source, self.credentials[source.key], self.model.projects)
        before = self.applied.get(source.key)
        replaced = forced or any(
            before is None or before[key] != want[key] for key in ("type", "projectId")
        )
        if before is not None and not replaced:
            for ignored in source.ignore_changes:
                want[ignored] = before[ignored]
        self.applied[source.key] = want

    def _apply_all(self, forced: Command | None = None) -> None:
        declared = {d.key for d in self.model.declared}
        for key in set(self.applied) - declared:
            del self.applied[key]
        replaced = {urn.rsplit("::", 1)[-1] for urn in forced.replace} if forced else set()
        for source in self.model.declared:
            self._apply(source, forced=source.resource_name in replaced)
        self.fully_applied = True

    # --- the invariants ------------------------------------------------------------------------

    def _check_converged(self) -> None:
        observed = self._observe()
        expected = {d.resource_name: self.applied.get(d.key) for d in self.model.declared}
        problems = invariants.converged(
            observed,
            expected,
            self.retainable | self.made_out_of_band,
            self.emulator.credential_differences,
        )
        problems += self._leaks_at_rest()
        self._check(problems)
        if self.fully_applied and self.model.declared:
            self._must(Command("preview", expect_no_changes=True), "converged: nothing to do")

    def _check(self, problems: list[str]) -> None:
        if problems:
            self._fail(problems)

    def _observe(self) -> invariants.Observed:
        return invariants.observe(self._deployment(), self._live())

    def _deployment(self) -> dict[str, Any]:
        exported = self.env.run(
            "stack", "export", "--stack", STACK, cwd=Path(self.stack.workspace.work_dir)
        )
        deployment: dict[str, Any] = json.loads(exported.stdout)["deployment"]
        self.last_state = list(deployment.get("resources") or [])
        return deployment

    def _live(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        with httpx.Client(base_url=self.emulator.url, timeout=30) as client:
            for project in self.model.projects.values():
                page = client.get(
                    LOG_SOURCES, params={"limit": 500}, headers=self._headers(project)
                )
                page.raise_for_status()
                found += page.json()["data"]
        return found

    def _headers(self, project: str) -> dict[str, str]:
        return auth(self.api_key, **{"X-Project-Id": project})

    def _leaks_at_rest(self) -> list[str]:
        return invariants.leaks(backend_files(self.env), self._secrets())

    def _secrets(self) -> set[str]:
        values = set(self.credentials.values()) | self.secrets
        return values - {INVALID_CREDENTIAL}

    def _note_retainable(self) -> None:
        """Before a command: the ids the state last held for a resource that is retained on
        delete, by its state or by the program now (a replacement's old source is kept)."""
        retained_names = {
            name
            for d in self.model.declared
            if d.retain_on_delete
            for name in (d.resource_name, *(alias for alias, _ in d.aliases))
        }
        for resource in self.last_state:
            name = resource["urn"].rsplit("::", 1)[-1]
            if resource.get("id") and (resource.get("retainOnDelete") or name in retained_names):
                self.retainable.add(str(resource["id"]))

    # --- helpers -------------------------------------------------------------------------------

    def _choose(self, weights: dict[str, int]) -> str:
        kinds = [k for k in weights if not self.excluded(k)]
        return self.rng.choices(kinds, [weights[k] for k in kinds])[0]

    def _targetable(self) -> bool:
        return self.fully_applied and any(
            not d.protect and self._in_state(d) for d in self.model.declared
        )

    def _in_state(self, source: Declared) -> bool:
        return self.applied.get(source.key) is not None

    def _urn(self, source: Declared) -> str:
        for resource in self._observe().resources:
            if resource["urn"].rsplit("::", 1)[-1] == source.resource_name:
                return str(resource["urn"])
        self._fail([f"{source.resource_name} is not in the state to be named by its URN"])
        raise AssertionError  # unreachable: _fail raises

    def _declared_summary(self) -> list[str]:
        return [describe(d) for d in self.model.declared]

    def _note(self, text: str) -> None:
        if text:
            self.history.append(f"{len(self.history)}. {text}")

    def _fail(self, problems: list[str], outcome: Outcome | None = None) -> None:
        self.failed = True
        lines = [
            f"lifecycle walk with seed {self.seed} broke an invariant; replay it alone with",
            f"  pytest tests/cli/test_lifecycle_walks_cli.py --lifecycle-seed {self.seed} "
            f"--lifecycle-steps {max(self.figures.steps, 1)}",
            "steps:",
            *(f"  {line}" for line in self.history),
            "problems:",
            *(f"  - {problem}" for problem in problems),
        ]
        if outcome is not None:
            tail = outcome.error or outcome.output
            for secret in self._secrets():
                tail = tail.replace(secret, "[secret]")
            lines += ["the command's output ends:", tail[-3000:]]
        self.report = "\n".join(lines)
        raise WalkFailed(self.report)
