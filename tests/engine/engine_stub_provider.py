"""A tiny dynamic provider and resource for testing the engine stand-in without the SigSentry API.

Importable by the plugin process (it must unpickle ``WidgetProvider`` by reference): tests put this
folder on the plugin's ``PYTHONPATH``. The "remote API" is a folder of JSON records named by the
``stub:storeDir`` config key; every call appends one line to ``calls.log`` there, so tests can
assert the exact call sequence the engine sent, across plugin processes.

Widget inputs: ``name`` (required), ``kind`` (a change replaces; ``delete_before_replace`` input
asks for delete-before-replace), ``token`` (a credential), ``ref`` (anything, e.g. another id),
``quiet`` (diff answers ``changes=False`` while still naming ``replaces``). ``provider_tag`` gives
the pickled provider an attribute, so the same widget gets a different ``__provider`` string.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.output import Unknown

PROVIDER_KEY = "__provider"
INPUT_KEYS = ("name", "kind", "token", "ref", "delete_before_replace", "engine_diff")

_active = 0
_active_lock = threading.Lock()


def plugin_env() -> dict[str, str]:
    """The environment a plugin process needs to import this module by reference."""
    here = str(Path(__file__).resolve().parent)
    return {"PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])}


class WidgetProvider(pulumi.dynamic.ResourceProvider):
    """Holds no client and no secret: only the store path, set by configure()."""

    tag: str | None = None  # set on an instance only by `Widget(provider_tag=...)`

    def configure(self, req: pulumi.dynamic.ConfigureRequest) -> None:
        self._store = Path(req.config.get("stub:storeDir"))
        self._delay = float(req.config.get("stub:delay") or 0)
        self._token = req.config.get("stub:token")
        print(f"widget provider configured, store {self._store.name}", flush=True)

    # -- helpers ----------------------------------------------------------------------------

    def _log(self, *fields: object) -> None:
        global _active
        with _active_lock:
            _active += 1
            active = _active
        try:
            time.sleep(self._delay)
            line = " ".join(str(f) for f in fields) + f" active={active} pid={os.getpid()}\n"
            with (self._store / "calls.log").open("a") as journal:
                journal.write(line)
        finally:
            with _active_lock:
                _active -= 1

    def _record(self, id_: str) -> Path:
        return self._store / f"{id_}.json"

    @staticmethod
    def _inputs(props: dict[str, Any]) -> dict[str, Any]:
        return {key: props[key] for key in INPUT_KEYS if key in props}

    def _write(self, id_: str, props: dict[str, Any]) -> dict[str, Any]:
        token = props.get("token")
        if token == "reject-me":
            raise ValueError("the API refused the token (HTTP 401): rotate it and retry")
        if isinstance(token, str) and token.startswith("leak-"):
            raise ValueError(f"careless provider: token {token} was refused")
        record = self._inputs(props)
        self._record(id_).write_text(json.dumps(record))
        # `authorized` shows that the plaintext of a secret config value reached configure().
        return {
            **record,
            "revision": time.monotonic_ns(),
            "authorized": self._token == "open-sesame",
        }

    # -- provider protocol ------------------------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        self._log("check", news.get("name"))
        failures = []
        name = news.get("name")
        if not isinstance(name, Unknown) and not name:
            failures.append(
                pulumi.dynamic.CheckFailure(
                    "name", "name is required: set `name` to a non-empty string"
                )
            )
        return pulumi.dynamic.CheckResult(dict(news), failures)

    def diff(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        self._log("diff", id_)
        changed = [
            key
            for key in INPUT_KEYS
            if isinstance(news.get(key), Unknown) or olds.get(key) != news.get(key)
        ]
        replaces = [key for key in changed if key == "kind"]
        if news.get("engine_diff"):
            return pulumi.dynamic.DiffResult(changes=None)
        if news.get("quiet"):
            return pulumi.dynamic.DiffResult(changes=False, replaces=replaces)
        return pulumi.dynamic.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(news.get("delete_before_replace")) or None,
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        id_ = uuid.uuid4().hex[:12]
        self._log("create", id_, props.get("name"))
        print(f"created widget {props.get('name')}", flush=True)
        print(f"stderr note for {id_}", file=sys.stderr, flush=True)
        return pulumi.dynamic.CreateResult(id_, self._write(id_, props))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        self._log("read", id_)
        path = self._record(id_)
        if not path.exists():
            return pulumi.dynamic.ReadResult(None, {})
        record = json.loads(path.read_text())
        # What the store does not keep comes from the old outputs, as a real read would rebuild it.
        outs = {**record, "revision": props.get("revision"), "authorized": props.get("authorized")}
        return pulumi.dynamic.ReadResult(id_, outs, inputs=dict(record))

    def update(
        self, id_: str, _olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        self._log("update", id_, news.get("name"))
        return pulumi.dynamic.UpdateResult(self._write(id_, news))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        self._log("delete", id_)
        if (self._store / "fail-deletes").exists():  # a test's switch: the API is down
            raise RuntimeError(f"the API refused to delete {id_} (HTTP 503): try again later")
        self._record(id_).unlink(missing_ok=True)


class Widget(pulumi.dynamic.Resource, module="stub", name="Widget"):
    id: pulumi.Output[str]
    name: pulumi.Output[str]
    kind: pulumi.Output[str]
    token: pulumi.Output[str]
    ref: pulumi.Output[str]
    revision: pulumi.Output[float]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        kind: pulumi.Input[str] = "plain",
        token: pulumi.Input[str] | None = None,
        ref: pulumi.Input[str] | None = None,
        delete_before_replace: bool | None = None,
        engine_diff: bool | None = None,
        quiet: bool | None = None,
        provider_tag: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "name": name,
            "kind": kind,
            "token": token,
            "ref": ref,
            "delete_before_replace": delete_before_replace,
            "engine_diff": engine_diff,
            "quiet": quiet,
            "revision": None,
        }
        provider = WidgetProvider()
        if provider_tag is not None:
            provider.tag = provider_tag  # pickled with the instance: a new `__provider`
        super().__init__(provider, resource_name, props, opts)

    @classmethod
    def get(
        cls, resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> Widget:
        """An existing widget, read through the provider (``Read`` with no old outputs)."""
        widget = cls.__new__(cls)
        props = dict.fromkeys(("name", "kind", "token", "ref", "revision"))
        options = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        pulumi.dynamic.Resource.__init__(widget, WidgetProvider(), resource_name, props, options)
        return widget


def journal(store: Path) -> list[list[str]]:
    """The calls the provider saw, oldest first, each as [op, args...] (bookkeeping dropped)."""
    path = store / "calls.log"
    if not path.exists():
        return []
    return [
        [word for word in line.split() if not word.startswith(("active=", "pid="))]
        for line in path.read_text().splitlines()
    ]


def max_concurrency(store: Path) -> int:
    path = store / "calls.log"
    return max(
        (
            int(w.split("=")[1])
            for line in path.read_text().splitlines()
            for w in line.split()
            if w.startswith("active=")
        ),
        default=0,
    )


def plugin_pids(store: Path) -> list[str]:
    """The plugin process id of each journal line."""
    path = store / "calls.log"
    return [line.rsplit("pid=", 1)[1] for line in path.read_text().splitlines()]
