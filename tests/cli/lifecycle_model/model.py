"""The program a walk declares, as data, the inline program built from it, and the random edits.

A `Model` is a list of `Declared` log sources plus the SigSentry projects they may name. It is
saved as JSON (`save`, `load`) so that the child process that runs a Pulumi command
(operations.py) builds exactly the program the walk holds: `program(model)` reads nothing else.
Credential values are not in the model: each source reads its own secret stack config value
(`Declared.credential_key`), which the walk sets before each command, as a user rotates a
credential with `pulumi config set --secret`.

`expected_live` is what SigSentry should hold for a declared source once an `up` has applied it;
`Edits` makes the random program edits a walk chooses from (each returns a one-line description,
or None when it does not apply to the current program).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from sigsentry_pulumi import LogSource

TYPES = ("cloudwatch", "datadog", "loki")
PROJECTS = (None, "main", "other")
"""`project_id` as the program sets it: unset (the provider's `sigsentry:projectId`), that same
project named explicitly, or another project of the tenant (changing it replaces the source)."""
IGNORABLE = ("name", "sources")
"""Properties a walk lists in `ignore_changes` (their state names are their Python names)."""
FORCING = ("name", "sources", "verify")
"""Properties a walk lists in `replace_on_changes`; `verify` is not in the create's body, so a
replacement it forces would create the same body again."""
GOOD_HOST = "https://loki.example.com"
BROKEN_HOST = "https://loki.invalid"
"""SigSentry's credential test fails for a host on the reserved `.invalid` domain."""
INVALID_CREDENTIAL = "invalid"
"""SigSentry's credential test fails for a credential value `invalid` (simulation.py)."""
OPTIONS = (
    "protect",
    "retain_on_delete",
    "delete_before_replace",
    "ignore_changes",
    "replace_on_changes",
)
"""Resource options a walk turns on and off."""
GROUP_TYPE = "lifecycle:index:Group"
GROUP_NAME = "group"


@dataclass
class Declared:
    """One `LogSource` of the program, with its resource options."""

    key: str  # the model's own name for it; stays across resource renames
    resource_name: str
    type: str
    sources: list[str]
    name: str | None = None
    is_active: bool | None = None
    verify: bool | None = None
    project: str | None = None  # a key of PROJECTS
    host: str = GOOD_HOST  # loki only
    parented: bool = False  # a child of the component `group`
    aliases: list[tuple[str, bool]] = field(default_factory=list)  # (resource name, parented)
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    adopt_id: str | None = None

    @property
    def credential_key(self) -> str:
        """The project config key (a secret) holding this source's credential value."""
        return f"cred_{self.key}"


@dataclass
class Model:
    declared: list[Declared] = field(default_factory=list)
    projects: dict[str, str] = field(default_factory=dict)  # "main"/"other" -> prj_...
    made: int = 0  # sources and names made so far: every new name is fresh

    def find(self, key: str) -> Declared | None:
        return next((d for d in self.declared if d.key == key), None)

    def fresh(self, prefix: str) -> str:
        self.made += 1
        return f"{prefix}{self.made}"

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    def copy(self) -> Model:
        return copy.deepcopy(self)


def load(path: Path) -> Model:
    raw = json.loads(path.read_text())
    declared = [
        Declared(**{**d, "aliases": [tuple(a) for a in d["aliases"]]}) for d in raw["declared"]
    ]
    return Model(declared=declared, projects=raw["projects"], made=raw["made"])


def credentials(source: Declared, value: Any) -> dict[str, Any]:
    """The credentials of `source`'s type, every secret key holding `value` (a config secret
    in the program, the plaintext in the walk's expectations)."""
    if source.type == "cloudwatch":
        return {"accessKeyId": value, "secretAccessKey": value}
    if source.type == "datadog":
        return {"apiKey": value, "appKey": value}
    return {"host": source.host, "apiKey": value}


def expected_live(source: Declared, value: str, projects: Mapping[str, str]) -> dict[str, Any]:
    """What SigSentry holds for `source` once applied: the record's fields, its project id (None
    for the provider's own project) and its credentials."""
    return {
        "type": source.type,
        "name": source.name if source.name is not None else source.resource_name,
        "sources": list(source.sources),
        "isActive": source.is_active is not False,
        "projectId": projects.get(source.project or "main"),
        "credentials": credentials(source, value),
    }


# --- the inline program -------------------------------------------------------------------------


def program(model: Model) -> Callable[[], None]:
    """The inline Pulumi program that declares `model`."""

    def run() -> None:
        config = pulumi.Config()
        group = Group(GROUP_NAME)
        for source in model.declared:
            aliases = [
                pulumi.Alias(name=name, parent=group if parented else None)
                for name, parented in source.aliases
                if (name, parented) != (source.resource_name, source.parented)
            ]
            options = pulumi.ResourceOptions(
                parent=group if source.parented else None,
                aliases=aliases or None,
                protect=source.protect,
                retain_on_delete=source.retain_on_delete,
                delete_before_replace=source.delete_before_replace,
                ignore_changes=source.ignore_changes or None,
                replace_on_changes=source.replace_on_changes or None,
            )
            kind: Any = source.type  # checked by the provider, as an untyped program's would be
            LogSource(
                source.resource_name,
                type=kind,
                name=source.name,
                credentials=credentials(source, config.require_secret(source.credential_key)),
                sources=source.sources,
                is_active=source.is_active,
                verify=source.verify,
                project_id=model.projects.get(source.project) if source.project else None,
                adopt_id=source.adopt_id,
                opts=options,
            )

    return run


class Group(pulumi.ComponentResource):
    """A component that only parents sources: moving a source under it changes its URN."""

    def __init__(self, name: str) -> None:
        super().__init__(GROUP_TYPE, name, None, None)
        self.register_outputs({})


# --- the random edits ---------------------------------------------------------------------------


def fresh_sources(rng: random.Random, source_type: str) -> list[str]:
    shapes = {
        "cloudwatch": "/aws/lambda/app-{}",
        "datadog": "service:app-{}",
        "loki": '{{app="app-{}"}}',
    }
    count = rng.randint(1, 3)
    picks = rng.sample(range(100), count)
    return [shapes[source_type].format(n) for n in picks]


class Edits:
    """The program edits a walk makes between commands. Each takes the model and the walk's
    random generator and returns what it did, or None when it does not apply.

    `credentials[key]` is the credential value each source's config secret holds; an edit that
    rotates or breaks one changes it there, and the walk writes it to the stack config.
    """

    def __init__(
        self,
        rng: random.Random,
        credentials: dict[str, str],
        excluded: Callable[[str], bool] = lambda kind: False,
    ) -> None:
        self.rng = rng
        self.credentials = credentials
        self.excluded = excluded
        self.options = tuple(o for o in OPTIONS if not excluded(o))
        self.only: Declared | None = None
        """When set, the edits that pick a source pick this one (or none)."""

    def new_credential(self) -> str:
        """A fresh credential value; some hold a non-ASCII letter, a quote and a backslash,
        which JSON, URL and base64 encode differently (the leak checks look for every form)."""
        token = f"{self.rng.getrandbits(64):016x}"
        if self.rng.random() < 0.3:
            return f'lifecycle-é-"cred"-\\-{token}'
        return f"lifecycle-credential-{token}"

    def _pick(self, model: Model, ok: Callable[[Declared], bool]) -> Declared | None:
        choices = [d for d in model.declared if ok(d) and self.only in (None, d)]
        return self.rng.choice(choices) if choices else None

    def add(self, model: Model, *, broken: bool = False) -> str:
        """A new source with random fields and options; `broken`: with verify=True and
        credentials SigSentry's test refuses, so its create must fail and leave nothing."""
        rng = self.rng
        key = model.fresh("s")
        source_type = rng.choice(TYPES)
        source = Declared(
            key=key,
            resource_name=f"src-{key}",
            type=source_type,
            sources=fresh_sources(rng, source_type),
            name=rng.choice([None, f"display-{key}"]),
            is_active=rng.choice([None, True, False]),
            verify=rng.choice([None, False, True]),
            project=rng.choice(PROJECTS),
            parented=rng.random() < 0.3 and not self.excluded("parent"),
            protect=rng.random() < 0.1,
            retain_on_delete=rng.random() < 0.15,
            delete_before_replace=rng.random() < 0.3,
            ignore_changes=[rng.choice(IGNORABLE)] if rng.random() < 0.15 else [],
        )
        self.credentials[key] = self.new_credential()
        if broken:
            source.verify = True
            if source.type == "loki" and rng.random() < 0.5:
                source.host = BROKEN_HOST
            else:
                self.credentials[key] = INVALID_CREDENTIAL
        model.declared.append(source)
        return f"add {describe(source)}" + (" with credentials the test refuses" if broken else "")

    def remove(self, model: Model) -> str | None:
        source = self._pick(model, lambda d: not d.protect)
        if source is None:
            return None
        model.declared.remove(source)
        return f"remove {source.key}"

    def rename(self, model: Model) -> str | None:
        source = self._pick(model, lambda d: True)
        if source is None:
            return None
        source.name = model.fresh("display-")
        return f"{source.key}: name={source.name!r}"

    def rotate(self, model: Model) -> str | None:
        source = self._pick(model, lambda d: True)
        if source is None:
            return None
        self.credentials[source.key] = self.new_credential()
        return f"{source.key}: rotate credentials"

    def change_sources(self, model: Model) -> str | None:
        source = self._pick(model, lambda d: True)
        if source is None:
            return None
        source.sources = fresh_sources(self.rng, source.type)
        return f"{source.key}: sources={source.sources}"

    def toggle_active(self, model: Model) -> str | None:
        source = self._pick(model, lambda d: True)
        if source is None:
            return None
        source.is_active = source.is_active is False
        return f"{source.key}: is_active={source.is_active}"

    def toggle_verify(self, model: Model) -> str | None:
        source = self._pick(model, lambda d: True)
        if source is None:
            return None
        source.verify = not source.verify
        return f"{source.key}: verify={source.verify}"

    def change_type(self, model: Model) -> str | None:
        source = self._pick(model, lambda d: not d.protect)
        if source is None:
            return None
        source.type = self.rng.choice([t for t in TYPES if t != source.type])
        source.sources = fresh_sources(self.rng, source.type)
        # the adopted source has the old type: a user drops adopt_id with the type change
        source.adopt_id = None
        return f"{source.key}: type={source.type} (replaces)"

    def change_project(self, model: Model) -> str | None:
        source = self._pick(model, lambda d: not d.protect)
        if source is None:
            return None
        source.project = self.rng.choice([p for p in PROJECTS if p != source.project])
        source.adopt_id = None
        return f"{source.key}: project_id={source.project}"

    def rename_resource(self, model: Model) -> str | None:
        source = self._pick(model, lambda d: True)
        if source is None:
            return None
        source.aliases.append((source.resource_name, source.parented))
        source.resource_name = f"src-{model.fresh(source.key + '-r')}"
        return f"{source.key}: resource renamed {source.resource_name} with an alias"

    def move(self, model: Model) -> str | None:
        source = self._pick(model, lambda d: True)
        if source is None:
            return None
        source.aliases.append((source.resource_name, source.parented))
        source.parented = not source.parented
        where = "under the component" if source.parented else "to the stack's root"
        return f"{source.key}: moved {where} with an alias"

    def toggle_option(self, model: Model) -> str | None:
        source = self._pick(model, lambda d: True)
        if source is None:
            return None
        option = self.rng.choice(self.options)
        if option in ("ignore_changes", "replace_on_changes"):
            choices = IGNORABLE if option == "ignore_changes" else FORCING
            names = [] if getattr(source, option) else [self.rng.choice(choices)]
            setattr(source, option, names)
            return f"{source.key}: {option}={names}"
        setattr(source, option, not getattr(source, option))
        return f"{source.key}: {option}={getattr(source, option)}"

    def unprotect_all(self, model: Model) -> str | None:
        protected = [d for d in model.declared if d.protect]
        for source in protected:
            source.protect = False
        return f"unprotect {', '.join(d.key for d in protected)}" if protected else None

    def adopt(self, model: Model, made_out_of_band: Callable[[Declared], str]) -> str:
        """Declare a new source adopting one made out of band (`made_out_of_band` makes it,
        with other fields and credentials than the program's, and returns its id)."""
        self.add(model)
        source = model.declared[-1]
        source.protect = False
        source.adopt_id = made_out_of_band(source)
        return f"{source.key}: adopts {source.adopt_id}"

    def drop_adopt_id(self, model: Model) -> str | None:
        source = self._pick(model, lambda d: d.adopt_id is not None)
        if source is None:
            return None
        source.adopt_id = None
        return f"{source.key}: adopt_id removed"


def describe(source: Declared) -> str:
    options = [
        name
        for name in ("protect", "retain_on_delete", "delete_before_replace", "parented")
        if getattr(source, name)
    ]
    for listed in ("ignore_changes", "replace_on_changes"):
        if getattr(source, listed):
            options.append(f"{listed}={getattr(source, listed)}")
    extra = f" [{', '.join(options)}]" if options else ""
    return (
        f"{source.key} {source.type} project={source.project} verify={source.verify} "
        f"is_active={source.is_active}{extra}"
    )
