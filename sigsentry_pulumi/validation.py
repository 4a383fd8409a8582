"""The rules a `LogSource` must meet, checked offline: the provider's `check`, for your own code.

```python
from sigsentry_pulumi.validation import validate_log_source

problems = validate_log_source(type="cloudwach", credentials={...}, sources=["/aws/lambda/api"])
# [Problem(field='type', reason="type 'cloudwach' is not supported: use one of cloudwatch, ...")]
```

`validate_log_source` takes `LogSource`'s own keyword arguments and needs no Pulumi engine,
mocks or stack. `check_inputs` is what the provider's `check` runs on the registered inputs (and
`sigsentry_pulumi.testing.LogSourceMocks` on each registration), so the three cannot drift.

What they do not check is the provider settings (a missing `sigsentry:apiKey`, a malformed
`sigsentry:apiUrl`, an account's settings): those live in the stack's config, which only the
provider's `check` sees. No problem quotes a credential value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, MutableMapping, Sequence
from typing import Any

from pulumi import Output
from pulumi.runtime.rpc import UNKNOWN

from ._accounts import validate_name
from ._rules import Problem, is_unknown, validate_inputs
from ._types import (
    ACCOUNT_KEY,
    ADOPT_KEY,
    ADOPT_PREFIX,
    FILLED_DEFAULTS,
    IDENTITY_KEY,
    STATE_NAMES,
)

__all__ = ["Problem", "check_inputs", "validate_log_source"]


def check_inputs(
    news: Mapping[str, Any], *, adopters: MutableMapping[str, str] | None = None
) -> tuple[dict[str, Any], list[Problem]]:
    """The inputs as the provider's `check` returns them, and every problem in them.

    `news` are a `LogSource`'s registered inputs by state name (`isActive`, `projectId`, ...,
    plus `resourceIdentity` and `__provider`), plain values: secrets unwrapped, a value not known
    yet as the engine's unknown. The returned inputs have the `None` values dropped and the
    defaults filled in (`isActive=True`, `verify=False`). The problems hold the API's rules,
    `account` and `adopt_id`, in that order; the provider settings are not checked here.

    `adopters` maps each adopted id to the resource identity that claimed it first; pass one
    mapping per deployment to refuse two resources adopting the same source.
    """
    inputs = {key: value for key, value in news.items() if value is not None}
    for key, default in FILLED_DEFAULTS.items():
        inputs.setdefault(key, default)
    # The API's rules see every input but those `LogSource` and the provider own: an unknown
    # one is theirs to report.
    own = (IDENTITY_KEY, ACCOUNT_KEY, ADOPT_KEY)
    given = {k: v for k, v in inputs.items() if k not in own}
    problems = validate_inputs(given)
    adopt_problem = _adopt_problem(inputs.get(ADOPT_KEY), inputs.get(IDENTITY_KEY), adopters)
    if adopt_problem is not None:
        problems.append(Problem(ADOPT_KEY, adopt_problem))
    account_problem = validate_name(inputs.get(ACCOUNT_KEY))
    if account_problem is not None:
        problems.append(Problem(ACCOUNT_KEY, account_problem))
    return inputs, problems


def validate_log_source(
    resource_name: str | None = None,
    *,
    type: object = None,
    credentials: object = None,
    sources: object = None,
    name: object = None,
    is_active: object = None,
    verify: object = None,
    project_id: object = None,
    account: object = None,
    adopt_id: object = None,
) -> list[Problem]:
    """Every problem `pulumi preview` would report for `LogSource(resource_name, ...)`; [] if none.

    Takes `LogSource`'s keyword arguments. Each `Problem` has `field`, named as in the provider's
    check failures (`type`, `credentials.secretAccessKey`, `sources[2]`, `isActive`, ...), and
    `reason`, which says what to do. A `pulumi.Output` or other awaitable, anywhere in the
    arguments, counts as a value not known yet and is skipped, as a preview skips it. `name`
    defaults to `resource_name`, as in `LogSource`; with neither, `name` is not checked.
    The provider settings (`sigsentry:apiKey`, ...) are not checked: see the module docstring.
    """
    given = locals()  # the arguments, by the Python names of `PROPERTIES`
    news = {state: _plain(given[python]) for python, state in STATE_NAMES.items()}
    if news["name"] is None:
        news["name"] = resource_name
    _, problems = check_inputs(news)
    if news["name"] is None:
        problems = [p for p in problems if p.field != "name"]  # LogSource fills it in
    return problems


def _plain(value: object) -> object:
    """`value` with every Output or awaitable in it replaced by the engine's unknown."""
    if isinstance(value, Output | Awaitable):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(item) for item in value]
    return value


def _adopt_problem(
    adopt: Any, identity: Any, adopters: MutableMapping[str, str] | None
) -> str | None:
    """Why `adopt_id` cannot be used, before anything is sent; None when it can (or is unknown).

    Two resources of one deployment adopting the same source are refused here, so a preview
    fails before any write.
    """
    if adopt is None or is_unknown(adopt):
        return None
    if not isinstance(adopt, str) or not adopt.startswith(ADOPT_PREFIX) or adopt == ADOPT_PREFIX:
        return f"adopt_id must be a log source id such as 'ls_...', not {str(adopt)[:40]!r}"
    if adopters is None or not isinstance(identity, str):
        return None
    claimed = adopters.setdefault(adopt, identity)
    if claimed != identity:
        other = claimed.rsplit("/", 1)[-1]
        return (
            f"log source {adopt} is already adopted by the resource {other!r} of this stack; "
            f"one source can be managed by one resource only: remove adopt_id={adopt!r} from "
            "one of them"
        )
    return None
