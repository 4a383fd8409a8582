"""What must hold after each step of a walk: the provider's promise (docs/provider.md, "What the
provider promises"), checked against the stack's state and what SigSentry holds.

`Observed` is one look at both: the LogSources in the exported state (and its pending
operations) and every live source of the projects the walk uses. Each check returns a list of
problems, each one line naming the resource or id and what is wrong, never a secret.

* `converged`: after a step expected to converge: every resource the walk expects maps to
  exactly one live source, whose id the state holds, and that source matches what was applied
  (name, type, sources, isActive, project, and credentials as SigSentry's own view compares
  them); nothing is pending; no live source is outside the state unless it was retained
  (`retain_on_delete`) or made out of band and not adopted.
* `weak`: after a failed or killed step, before the recovery: the state holds no id twice and
  names no source twice.
* `leaks`: no secret (the API key, a credential value) in any text given, plain or encoded.
"""

from __future__ import annotations

import base64
import collections
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

LOG_SOURCE_TYPE = "sigsentry:LogSource"
COMPARED = ("type", "name", "sources", "isActive")


@dataclass
class Observed:
    resources: list[dict[str, Any]]  # the LogSources in state
    pending: list[dict[str, Any]]
    live: dict[str, dict[str, Any]]  # id -> record, every project the walk uses

    def by_name(self) -> dict[str, list[dict[str, Any]]]:
        """State resources by resource name (the last part of the URN)."""
        found: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for resource in self.resources:
            found[resource["urn"].rsplit("::", 1)[-1]].append(resource)
        return found


def observe(deployment: Mapping[str, Any], live: Iterable[Mapping[str, Any]]) -> Observed:
    resources = [r for r in deployment.get("resources", []) if r["type"].endswith(LOG_SOURCE_TYPE)]
    return Observed(
        resources=resources,
        pending=list(deployment.get("pending_operations") or []),
        live={str(s["id"]): dict(s) for s in live},
    )


CredentialCheck = Callable[[str, Mapping[str, str]], list[str]]
"""(source id, expected credentials) -> the credential keys SigSentry holds otherwise."""


def converged(
    observed: Observed,
    expected: Mapping[str, Mapping[str, Any] | None],
    allowed_outside: set[str],
    differing_credentials: CredentialCheck,
) -> list[str]:
    """`expected`: resource name -> what SigSentry should hold for it, or None where the
    resource must not be in the state (removed, destroyed)."""
    problems = weak(observed)
    names = observed.by_name()
    for name, want in expected.items():
        held = names.get(name, [])
        if want is None:
            if held:
                problems.append(f"{name}: in the state ({held[0].get('id')}) but not expected")
            continue
        if len(held) != 1:
            problems.append(f"{name}: expected once in the state, found {len(held)} times")
            continue
        source_id = str(held[0].get("id") or "")
        record = observed.live.get(source_id)
        if record is None:
            problems.append(f"{name}: the state holds {source_id}, which SigSentry does not have")
            continue
        for field in COMPARED:
            if record.get(field) != want[field]:
                problems.append(
                    f"{name} ({source_id}): SigSentry holds {field}={record.get(field)!r}, "
                    f"the program applied {want[field]!r}"
                )
        if want["projectId"] is not None and record.get("projectId") != want["projectId"]:
            problems.append(
                f"{name} ({source_id}): in project {record.get('projectId')}, "
                f"expected {want['projectId']}"
            )
        differing = differing_credentials(source_id, want["credentials"])
        if differing:
            problems.append(
                f"{name} ({source_id}): SigSentry holds other credentials than the program's "
                f"(keys {', '.join(differing)})"
            )
    unexpected = set(names) - set(expected)
    problems += [f"{name}: in the state but not in the walk's model" for name in unexpected]
    if observed.pending:
        kinds = sorted({str(p.get("type")) for p in observed.pending})
        problems.append(f"the state holds {len(observed.pending)} pending operation(s): {kinds}")
    in_state = {str(r.get("id")) for r in observed.resources}
    outside = sorted(set(observed.live) - in_state - allowed_outside)
    problems += [
        f"{source_id} ({observed.live[source_id].get('name')!r}) is live in SigSentry but in "
        "no state, and was neither retained nor made out of band"
        for source_id in outside
    ]
    return problems


def weak(observed: Observed) -> list[str]:
    """What must hold even right after a failed or killed command. A replacement that did not
    finish leaves the old resource in the state beside the new one, marked `delete: true` (the
    next `up` deletes it), so only the resources not so marked are counted."""
    problems = []
    current = [r for r in observed.resources if not r.get("delete")]
    ids = collections.Counter(str(r.get("id")) for r in current if r.get("id"))
    problems += [f"the state holds {i} {n} times" for i, n in ids.items() if n > 1]
    names = collections.Counter(r["urn"].rsplit("::", 1)[-1] for r in current)
    problems += [f"{name}: {n} resources in the state" for name, n in names.items() if n > 1]
    return problems


def leaks(texts: Mapping[str, str], secrets: Iterable[str]) -> list[str]:
    """Where a secret appears, plain or encoded as a server's echo may carry it (JSON, URL,
    base64); the problem names the place and the form, not the secret."""
    values = sorted({s for s in secrets if s})
    return [
        f"secret #{index} appears ({form}) in {where}"
        for index, value in enumerate(values)
        for form, encoded in encodings(value).items()
        for where, text in texts.items()
        if encoded in text
    ]


def encodings(value: str) -> dict[str, str]:
    """`value` plain, JSON-escaped, URL-encoded, and the middle of its base64 at each byte
    alignment in both alphabets (its ends depend on the text around it)."""
    forms = {
        "plain": value,
        "JSON": json.dumps(value)[1:-1],
        "JSON, UTF-8": json.dumps(value, ensure_ascii=False)[1:-1],
        "URL": quote(value, safe=""),
        "URL+": quote_plus(value),
    }
    for lead in range(3):
        raw = bytes(lead) + value.encode()
        forms[f"base64/{lead}"] = base64.b64encode(raw).decode()[4:-4]
        forms[f"base64url/{lead}"] = base64.urlsafe_b64encode(raw).decode()[4:-4]
    unique: dict[str, str] = {}
    for form, encoded in forms.items():
        if len(encoded) >= 8 and encoded not in unique.values():
            unique[form] = encoded
    return unique
