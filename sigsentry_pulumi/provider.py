"""`LogSourceProvider`: the dynamic provider the Pulumi engine drives for every `LogSource`.

The engine runs it inside the `python -m pulumi.dynamic` plugin: one process per deployment,
serving up to `sigsentry:parallelism` calls at once (16 by default; the SDK's own is 4: see
`_workers`), one provider object per distinct pickled `__provider`. The object is
pickled into the stack's state by reference (`sigsentry_pulumi.provider.LogSourceProvider`,
88 base64 characters), so it holds nothing: no client, no lock, no secret. What the
process shares (the accounts with their settings and clients, the HTTP client, the list walk)
lives in `_runtime`; each call asks it once for the resource's account.

The engine strips secret marks before each call (the plugin answers `acceptSecrets=False`), so
credentials arrive here as plaintext, and it re-marks `credentials` secret in every output
because `LogSource` lists it in `additional_secret_outputs`. Nothing here prints or logs a
value.

What each operation does:

* `check`: offline validation (`validation.check_inputs`, shared with the testing kit's
  mocks), defaults `isActive=True` and `verify=False`; a value a preview does not know yet is
  skipped. Broken provider settings (no API key, a key that cannot be sent in a header, a
  malformed `sigsentry:apiUrl`) fail it with the message an API call would give, so a preview
  fails as `up` would, without a request; `sigsentry:validate=true` adds one list request per
  process (`_runtime.Account.problem`).
* every call uses the settings of the resource's `account` input (`_runtime.account`): absent, the
  `sigsentry:` settings; `tenantb`, those under `tenantb:`. Changing `account` replaces the
  source.
* `diff`: old outputs against new inputs; `type` or `projectId` changing means replacement; an
  unknown counts as a change. A `projectId` the program does not set is compared through
  `sigsentry:projectId`, and not at all when that is unset too.
* `create`: one POST, a PUT when `isActive` is false, the test call when `verify` is true; if a
  step after the POST fails, the new source is deleted before the error is raised. The POST's
  Idempotency-Key is derived from the resource's identity in its stack (the `resourceIdentity`
  input `LogSource` registers: project, stack, parent and name) and the request body, so a create
  repeated after a lost answer, a killed plugin or a killed `pulumi up` replays the first one
  and returns the same source (for SigSentry's 24-hour idempotency window). A replay of a
  source that no longer exists (destroy, then `up` with the same inputs) is made again under
  the next key generation. It is recognised without trusting `Idempotent-Replayed` (a proxy
  may strip it, and a deleted id would then go into state): an answer is taken as new only
  when it has no such header and its `createdAt` is in the second of its `Date` or later (both
  the server's clock; `CreatedLogSource.new`). A replay looks so only when its create was made
  in that very second, and every delete of a source within a second of its create returns
  only once that second has passed (`SigSentryClient.delete_log_source`), so such a replay is of
  a source that still exists. Any other answer has its id confirmed with an empty `PUT {}` (the
  API's no-op: 200, or 404 when the source is absent), a 404 being asked twice: a new create
  costs one request, a replay two, a replay of a deleted source four (POST, two 404s, POST),
  where a list walk would cost ceil(N/500). The emulator's empty PUT moves nothing, `updatedAt`
  included, and no output records `updatedAt`, so a server that moves it shows no drift. A
  replayed source that still exists existed before this create, so a failed step after the
  POST does not delete it (in a forced replacement it is the live source the engine keeps).
* forced replacement with the same inputs (`up --replace`, `--target-replace`, an `account`
  with the same key and URL): the engine sends Check with no olds, Create, then Delete of the
  old id, in one plugin process and with no Diff, so at Create it cannot be told from a
  create repeated after a crash, whose replay must return the first source. The create's
  replay returns the old source itself; `_runtime` remembers, for the process, each id a
  create got back as the replay of a source that still exists (`Idempotent-Replayed`, or,
  when a proxy strips it, a `createdAt` older than the answer's `Date`: see
  `SigSentryClient.create_log_source`), and the Delete of such an id
  sends nothing and prints one line saying the source was kept, why, and how to get a new one
  (`delete_before_replace=True`: the delete comes first, so the replay finds it gone; or a
  changed input). The trade-off: a crash between the replacement's create and its delete
  leaves the stack with the source twice (the replacement and the old entry pending
  deletion); the next `up`, in a new process that does not remember, deletes it. `pulumi
  refresh` then drops it from the stack and `pulumi up` creates it again.
* `create` with `adoptId` (`LogSource(adopt_id="ls_...")`): no POST. The source is looked up
  in the shared list walk (a miss confirmed by a fresh walk, as for `read`); a missing one or
  one of another `type` fails the create, naming the id and the fix. Otherwise one PUT makes
  it match the program (name, sources, isActive and the credentials, which are write-only and
  so always sent), then the test call when `verify` is true; the id is the adopted one.
  `check` refuses two resources of one deployment adopting the same id, so the preview fails
  before any write. In `diff`, an `adoptId` equal to the resource's id, or none, is no change;
  another id replaces the resource.
* `update`: one PUT with only the changed fields (never `type`), then the test call when
  `verify` is true; with `verify` true the PUT always carries the program's credentials
  (write-only: nothing shows which SigSentry holds, and the tested ones must be the
  program's). When the test fails, the changed fields are PUT back to the old outputs (which
  the failed update leaves in the stack), so SigSentry and the stack agree; if that PUT fails
  too, the error says SigSentry holds the new, unverified values and that an `up` with
  `verify=True` sends the program's credentials again. A source deleted outside Pulumi gives
  an error saying to run `pulumi refresh`.
* `read`: finds the source in the shared list walk (`_listing`). A source missing from it is
  gone only when a second walk, started after the first answered, lacks it too: one glitching
  page must not drop every source of a refresh. The reads that miss share that second walk
  (single flight), so a refresh dropping k sources costs 2 walks and one dropping none costs 1.
  Gone means `ReadResult(None, {})` (`NoSuchLogSourceError` for `LogSource.get`). The
  inputs it returns hold `projectId` only when it is not the provider's own project, so a
  refresh of a program that never set `project_id` does not show it as drift. It holds no output
  (`tenantId`, `createdAt`): carried among the inputs they would keep a dependent's preview
  free of a phantom update (docs/engine-notes-checked.md), but the first refresh with drift of
  every source would list them as changed too.
  With `verify` true (and credentials in state: not for `LogSource.get`), the read also runs
  SigSentry's test call, at most `_runtime.MAX_REFRESH_TESTS` at once per process; when it
  fails, the read records empty credentials, so refresh shows `credentials` as drift and the
  next `up` sends the program's credentials again and verifies them.
* `delete`: one DELETE; a source already gone counts as deleted (a 404 for a path that is not
  an API route, a wrong `sigsentry:apiUrl`, is raised). The id a create of this process got
  back as a replay is kept instead (see forced replacement above).

Errors: the SDK's plugin answers a call that raised with `traceback.format_exc()`, which the CLI
prints whole. Each call is wrapped (`_reported`) so that an error of this package (and a module
the plugin's Python cannot import, as a `ConfigurationError` naming it) is raised again from the
wrapper with its traceback cut and no chained context: the CLI shows the plugin's two frames,
the wrapper's, and the message. Anything else is a bug and keeps its whole traceback.

Not implemented: `pulumi import` and the `import_` resource option. The SDK's plugin sends
those a Read with no properties and fails with KeyError '__provider' before this code runs;
use `LogSource(adopt_id=...)` to manage an existing source, `LogSource.get` to read one.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, ParamSpec, TypeVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from . import _runtime
from ._accounts import account_of
from ._constants import IDEMPOTENCY_WINDOW_HOURS
from ._errors import (
    LogSourceGoneError,
    NoSuchLogSourceError,
    NotFoundError,
    RollbackFailedError,
    RouteNotFoundError,
    SigSentryError,
    VerificationFailedError,
    missing_dependency,
)
from ._rules import is_unknown
from ._types import (
    ACCOUNT_KEY,
    ADOPT_KEY,
    COMPARED_STATE,
    FILLED_DEFAULTS,
    IDENTITY_KEY,
    PROVIDER_KEY,
    REPLACING_STATE,
)
from .validation import check_inputs

# The plugin imports this module on its first call of every deployment, a preview's Check
# included, which never sends a request: the HTTP client (httpx) and the response models
# (pydantic) are imported by the calls that send one, not here (tests/provider/test_import_cost.py).
if TYPE_CHECKING:
    from ._client import SigSentryClient
    from ._models import LogSourceRecord

__all__ = ["LogSourceProvider"]

MAX_CREATE_GENERATIONS: Final = 20
"""Replays of deleted sources one create steps over before it gives up."""
# From the property table (`_types.PROPERTIES`), by state name.
REPLACE_KEYS: Final = REPLACING_STATE
COMPARED_KEYS: Final = COMPARED_STATE
DEFAULTS: Final[Mapping[str, bool]] = FILLED_DEFAULTS


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _reported(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """`method` with the errors a user can act on raised from here, with no traceback below.

    The plugin prints `traceback.format_exc()` of what a call raises: the frames of every
    function the error passed through, then the message. Raised again here with its traceback
    cut (`with_traceback(None)`) and its context dropped (`from None`), an error shows three
    frames (the plugin's `wrapper` and its method, then this one) before the message. A
    `ModuleNotFoundError` of a dependency (httpx, pydantic: imported by the first call that
    sends a request) becomes the `ConfigurationError` saying which Python lacks it. Any other
    exception is a bug: its whole traceback is what a report needs.
    """

    @functools.wraps(method)
    def reported(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except SigSentryError as error:
            raise error.with_traceback(None) from None
        except ModuleNotFoundError as error:
            if (error.name or "").partition(".")[0] == __package__:
                raise  # a module of this package: a broken install or a bug, traceback kept
            raise missing_dependency(error.name, sys.executable) from None

    return reported


class LogSourceProvider(ResourceProvider):
    """CRUD for SigSentry log sources. Takes no arguments and keeps no state of its own."""

    def configure(self, req: ConfigureRequest) -> None:
        # The SDK calls this from the plugin's first call (a Check, in a preview as in an
        # update), with the stack config alone: nothing says whether the deployment will write.
        # So the client's imports (httpx, pydantic) are not started here in the background: a
        # preview would pay them for nothing, and an update would gain at most the engine's gap
        # from that first Check to the first Create, once per deployment (benchmarks/README.md,
        # "Imports": 69 ms, while the imports took 0.5 to 1 s on the loaded machine).
        _runtime.configure(req.config.get)

    @_reported
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        # The rules live in `validation`, shared with `sigsentry_pulumi.testing.LogSourceMocks`;
        # only the provider settings, which need the stack config, are checked here alone.
        # Plugin-side twin of `resource._claim`, for adopt ids the program only learns later.
        inputs, problems = check_inputs(news, adopters=_runtime.adopters)
        failures = [CheckFailure(p.field, p.reason) for p in problems]
        settings_problem = _runtime.account(inputs).problem()
        if settings_problem is not None:
            # No property: the engine shows "<type> resource '<name>' has a problem: <reason>".
            failures.insert(0, CheckFailure("", settings_problem))
        return CheckResult(inputs, failures)

    @_reported
    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in COMPARED_KEYS if _differs(_input(olds, key), _input(news, key))]
        configured = _runtime.account(news).project_id
        if _project_differs(olds.get("projectId"), news.get("projectId"), configured):
            changed.append("projectId")
        replaces = [key for key in changed if key in REPLACE_KEYS]
        adopt = news.get(ADOPT_KEY)
        if adopt is not None and (is_unknown(adopt) or adopt != id_):
            # Adopting another source: the managed one is let go (deleted), that one taken over.
            # Removing adopt_id, or keeping the id this resource already has, changes nothing.
            changed.append(ADOPT_KEY)
            replaces.append(ADOPT_KEY)
        return DiffResult(changes=bool(changed), replaces=replaces)

    @_reported
    def create(self, props: dict[str, Any]) -> CreateResult:
        client = _runtime.account(props).client()
        project = props.get("projectId") or client.project_id
        if isinstance(props.get(ADOPT_KEY), str):
            return _adopt(client, props, project)
        record = _create_once(client, props, project)
        project = record.project_id or project
        try:
            if _input(props, "isActive") is False:
                client.update_log_source(record.id, is_active=False, project_id=project)
            if _input(props, "verify"):
                _verify(client, record.id, project, props["credentials"])
        except Exception as error:
            _roll_back(client, record, project, error)
            raise
        return CreateResult(record.id, _outputs(props, record, project))

    @_reported
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = _runtime.account(news).client()
        project = olds.get("projectId") or news.get("projectId") or client.project_id
        verify = bool(_input(news, "verify"))
        changes = {
            key: news.get(key)
            for key in ("name", "sources", "credentials")
            if news.get(key) != olds.get(key)
        }
        if verify:
            # Credentials are write-only: nothing shows which ones SigSentry holds (an earlier
            # update may have left others behind), so the ones tested are always sent.
            changes["credentials"] = news.get("credentials")
        if _input(news, "isActive") != _input(olds, "isActive"):
            changes["is_active"] = _input(news, "isActive")
        if changes:
            _put(client, id_, project, changes)
        if verify:
            try:
                _verify(client, id_, project, news.get("credentials") or {})
            except NotFoundError:
                raise LogSourceGoneError(id_) from None
            except VerificationFailedError as failure:
                # The failed update leaves the stack with the old outputs: put SigSentry back
                # to them, so that the two agree and the next diff sees the program's change.
                _restore(client, id_, project, olds, changes, failure)
        outputs = _echo(news)
        for key in ("projectId", "tenantId", "createdAt"):
            if olds.get(key) is not None:
                outputs[key] = olds[key]
        return UpdateResult(outputs)

    @_reported
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        account = _runtime.account(props)
        client = account.client()
        project = props.get("projectId") or client.project_id
        # A miss here is confirmed by a fresh walk: one glitching list page drops nothing.
        record = _runtime.listing.find(client, id_, project)
        if record is None:
            if "type" not in props:
                # Nothing stored: a `LogSource.get`. An empty answer would make the engine record
                # a resource with no properties (the plugin adds `__provider` to them), so fail.
                raise NoSuchLogSourceError(id_, project)
            return ReadResult(None, {})  # a managed source deleted outside Pulumi: drop it
        live = {
            "type": record.type,
            "name": record.name,
            "sources": list(record.sources),
            "isActive": record.is_active,
            "verify": bool(props.get("verify", False)),
        }
        if isinstance(props.get("credentials"), Mapping):
            live["credentials"] = props["credentials"]  # the API never returns them
            if live["verify"] and not _still_valid(client, id_, record.project_id or project):
                # The stored credentials stopped working behind Pulumi's back: record that
                # they are not the program's any more, so the next `up` sends them again.
                live["credentials"] = {}
        if account_of(props) is not None:
            live[ACCOUNT_KEY] = props[ACCOUNT_KEY]  # which settings found it, not an API field
        for own in (IDENTITY_KEY, ADOPT_KEY):
            if isinstance(props.get(own), str):
                live[own] = props[own]  # given by the program, not by the API: never drift
        project = record.project_id or project
        # The engine replaces the stored inputs with these and shows refresh drift as the
        # difference between old and new inputs. A project the program did not set must not
        # appear there: it is the provider's default, so only another project is an input.
        inputs = dict(live)
        configured = account.project_id
        if project and configured is not None and project != configured:
            inputs["projectId"] = project
        return ReadResult(id_, _outputs(live, record, project), inputs)

    @_reported
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        how = _runtime.forget_existing(id_)
        if how is not None:
            # The end of a forced replacement whose create got this very source back (see
            # `create`): deleting it would delete the replacement too.
            _tell(
                f"SigSentry: kept log source {id_} (name {props.get('name')!r}) instead of "
                f"deleting it: {how}, which the stack keeps. For a new source, set "
                "delete_before_replace=True on the resource (the old source is deleted "
                "first, then a new one is made) or change one of its inputs"
            )
            return
        client = _runtime.account(props).client()
        try:
            client.delete_log_source(
                id_,
                project_id=props.get("projectId") or client.project_id,
                created_at=props.get("createdAt"),
            )
        except NotFoundError:
            pass  # already gone: the goal of a delete (a wrong URL is a RouteNotFoundError)
        finally:
            _runtime.listing.invalidate()


def _input(inputs: Mapping[str, Any], key: str) -> Any:
    value = inputs.get(key)
    return DEFAULTS.get(key) if value is None else value


def _differs(old: Any, new: Any) -> bool:
    return _contains_unknown(new) or old != new


def _contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_contains_unknown(v) for v in value)
    return False


def _project_differs(old: Any, new: Any, configured: str | None) -> bool:
    if new is None:
        # Not set on the resource: the account's project decides, and without one the key's
        # own project does, which the recorded projectId already is.
        return configured is not None and old is not None and configured != old
    return _differs(old, new)


def _still_valid(client: SigSentryClient, log_source_id: str, project: str | None) -> bool:
    """Whether SigSentry's test call accepts the stored credentials (a refresh with verify)."""
    with _runtime.refresh_tests:
        return client.test_log_source(log_source_id, project_id=project).ok


def _adopt(client: SigSentryClient, props: Mapping[str, Any], project: str | None) -> CreateResult:
    """Take over an existing source: check it, make it match the program with one PUT.

    The credentials are write-only, so they are always sent; `verify` runs the test call. A
    failure leaves the source as it is (never deleted: it existed before Pulumi).
    """
    adopt = str(props[ADOPT_KEY])
    where = f"project {project}" if project else "the API key's project"
    record = _runtime.listing.find(client, adopt, project)
    if record is None:
        raise SigSentryError(
            f"Cannot adopt log source {adopt}: it does not exist in {where}. Check the id "
            "(`sigsentry-pulumi import` lists the sources), set project_id if it belongs to "
            f"another project, or remove adopt_id={adopt!r} to create a new source"
        )
    if record.type != props["type"]:
        raise SigSentryError(
            f"Cannot adopt log source {adopt}: its type is {record.type!r}, the program declares "
            f"{props['type']!r}. Declare type={record.type!r}, or remove adopt_id={adopt!r} to "
            "create a new source (a type cannot be changed in place)"
        )
    project = record.project_id or project
    try:
        client.update_log_source(
            adopt,
            name=props["name"],
            sources=props["sources"],
            credentials=props["credentials"],
            is_active=bool(_input(props, "isActive")),
            project_id=project,
        )
    finally:
        _runtime.listing.invalidate()
    if _input(props, "verify"):
        _verify(client, adopt, project, props["credentials"])
    # A forced replacement of an adopting resource adopts the very source it replaces.
    _runtime.remember_existing(adopt, f"the replacement adopted it again (adopt_id={adopt!r})")
    return CreateResult(adopt, _outputs(props, record, project))


_REPLAYED: Final = (
    "the replacement sent the same inputs within SigSentry's "
    f"{IDEMPOTENCY_WINDOW_HOURS}-hour idempotency window, so SigSentry returned this "
    "existing source"
)
"""Why a Delete kept a source a create got back as a replay (see `delete`)."""


def _create_once(
    client: SigSentryClient, props: Mapping[str, Any], project: str | None
) -> LogSourceRecord:
    """POST the source under a key derived from the resource and the body (see `create`).

    Without `resourceIdentity` (a resource declared by an older SigSentry package) the key is
    random and protects only the retries of this call.
    """
    identity = props.get(IDENTITY_KEY)
    fields = {
        "type": props["type"],
        "name": props["name"],
        "credentials": props["credentials"],
        "sources": props["sources"],
    }
    try:
        if not isinstance(identity, str) or not identity:
            return client.create_log_source(**fields, project_id=project)
        for generation in range(MAX_CREATE_GENERATIONS):
            record = client.create_log_source(
                **fields, project_id=project, identity=identity, generation=generation
            )
            # The answer may replay a first create under this key (a retry of this call, an
            # earlier run that lost its answer, or a source destroyed since). Whether it does
            # is not taken from `Idempotent-Replayed` alone: a proxy that strips the header
            # makes a replay of a deleted source look new. So an answer that is not surely new
            # (`CreatedLogSource.new`) has its id confirmed to exist; a gone one was a replay
            # of a deleted source: step to the next key.
            if record.new or _exists(client, record.id, project):
                if record.replayed:
                    # it existed before this create: see `delete` and `_roll_back`
                    _runtime.remember_existing(record.id, _REPLAYED)
                return record
    finally:
        _runtime.listing.invalidate()
    raise SigSentryError(
        f"Every create of this log source within the last {IDEMPOTENCY_WINDOW_HOURS} hours was "
        f"deleted since ({MAX_CREATE_GENERATIONS} of them); wait for SigSentry's "
        f"{IDEMPOTENCY_WINDOW_HOURS}-hour idempotency window to pass, or change its name, then "
        "run `pulumi up` again"
    )


def _exists(client: SigSentryClient, log_source_id: str, project: str | None) -> bool:
    """Whether the source a keyed create returned exists: an empty PUT (`log_source_exists`).

    A 404 is asked once more before it counts: taking a live source for a deleted one would
    create a second source under the next key and leave the first outside the state.
    """
    exists = client.log_source_exists
    return exists(log_source_id, project_id=project) or exists(log_source_id, project_id=project)


def _verify(
    client: SigSentryClient, log_source_id: str, project: str | None, credentials: Any
) -> None:
    from ._client import redact  # loaded already: `client` is one of its objects

    result = client.test_log_source(log_source_id, project_id=project)
    if not result.ok:
        secrets = [v for v in credentials.values() if isinstance(v, str)]
        reason = redact(result.message or "no reason given", secrets)
        raise VerificationFailedError(log_source_id, reason)


def _roll_back(
    client: SigSentryClient, record: LogSourceRecord, project: str | None, cause: Exception
) -> None:
    """Delete the source a failed create made, so that the failure leaves nothing behind.

    A source the create got back as SigSentry's replay of an earlier create existed before it:
    in a forced replacement it is the very source being replaced, which the engine keeps in
    the stack when the create fails. It is left alone, and the user told so.
    """
    log_source_id = record.id
    if _runtime.existed_before(log_source_id):
        _tell(
            f"SigSentry: kept log source {log_source_id} after the failed create: it existed "
            "before this create (SigSentry returned it for the same inputs), so it is not "
            "deleted"
        )
        return
    try:
        client.delete_log_source(log_source_id, project_id=project, created_at=record.created_at)
    except NotFoundError:
        pass  # already gone
    except RouteNotFoundError:
        raise  # a wrong URL, not a failed clean-up: its own message says what to fix
    except SigSentryError as error:
        # `from None`: the message already holds the cause; chaining would print it twice.
        raise RollbackFailedError(log_source_id, cause, error) from None
    finally:
        _runtime.listing.invalidate()


def _put(
    client: SigSentryClient, log_source_id: str, project: str | None, changes: Mapping[str, Any]
) -> None:
    try:
        client.update_log_source(log_source_id, project_id=project, **changes)
    except NotFoundError:
        raise LogSourceGoneError(log_source_id) from None
    finally:
        _runtime.listing.invalidate()


_RESTORED_NAMES: Final = {
    "name": "name",
    "sources": "sources",
    "credentials": "credentials",
    "is_active": "isActive",
}


def _restore(
    client: SigSentryClient,
    log_source_id: str,
    project: str | None,
    olds: Mapping[str, Any],
    changes: Mapping[str, Any],
    failure: VerificationFailedError,
) -> None:
    """After a failed verification, PUT the changed fields back to the stack's old outputs.

    Always raises: the verification error saying what was restored, or, when the restoring PUT
    fails too, a `RollbackFailedError` saying SigSentry holds the new, unverified values.
    Credentials the stack records as empty (a refresh found them failing) cannot be restored;
    the next `up` sends the program's.
    """
    previous: dict[str, Any] = {}
    for key in changes:
        old = _input(olds, "isActive") if key == "is_active" else olds.get(key)
        if key == "credentials" and not (isinstance(old, Mapping) and old):
            continue
        if old is not None:
            previous[key] = old
    if not previous:
        raise failure
    try:
        client.update_log_source(log_source_id, project_id=project, **previous)
    except SigSentryError as error:
        raise RollbackFailedError(log_source_id, failure, error, updated=True) from None
    finally:
        _runtime.listing.invalidate()
    raise VerificationFailedError(
        log_source_id, failure.reason, restored=[_RESTORED_NAMES[key] for key in previous]
    ) from None


def _tell(line: str) -> None:
    from ._client import print_progress  # loaded already: a call that sent a request did

    print_progress(line)


def _echo(inputs: Mapping[str, Any]) -> dict[str, Any]:
    outputs = {k: v for k, v in inputs.items() if k != PROVIDER_KEY and v is not None}
    for key, default in DEFAULTS.items():
        outputs.setdefault(key, default)
    return outputs


def _outputs(
    inputs: Mapping[str, Any], record: LogSourceRecord, project: str | None
) -> dict[str, Any]:
    outputs = _echo(inputs)
    outputs["tenantId"] = record.tenant_id
    if project:
        outputs["projectId"] = project
    if record.created_at:
        outputs["createdAt"] = record.created_at
    return outputs
