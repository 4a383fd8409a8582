"""Creates keyed by the resource and its body, against the emulator (in-process provider).

A create repeated in another process (a fresh `_runtime`, as after a crash) replays the first one;
a replay of a source deleted since is stepped over, with or without `Idempotent-Replayed`; a
refresh keeps `resourceIdentity`.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from provider.cases import checked, inputs, provider_for
from sigsentry_emulator.testing import EmulatorProcess
from sigsentry_pulumi import LogSourceProvider, SigSentryClient, SigSentryError, _runtime
from sigsentry_pulumi._client import REPLAY_AGE_SECONDS
from sigsentry_pulumi._types import IDENTITY_KEY

IDENTITY = "proj/dev/sigsentry:LogSource/test-loki"


def keyed(**overrides: Any) -> dict[str, Any]:
    return inputs("loki", **{IDENTITY_KEY: IDENTITY, **overrides})


LIST = "/v1/config/log-sources"


def calls(emulator: EmulatorProcess) -> list[tuple[str, str, int]]:
    return [(r["method"], r["path"], r["status"]) for r in emulator.requests()]


def posts(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["method"] == "POST"]


def fresh_provider(emulator: EmulatorProcess) -> LogSourceProvider:
    """A provider as a new plugin process has it: nothing shared with the previous one."""
    _runtime.reset()
    return provider_for(emulator)


def test_the_identity_passes_check_and_a_refresh_keeps_it(emulator: EmulatorProcess) -> None:
    provider = provider_for(emulator)
    news = checked(provider, keyed())
    assert news[IDENTITY_KEY] == IDENTITY
    created = provider.create(news)
    assert created.outs is not None and created.outs[IDENTITY_KEY] == IDENTITY
    # a refresh returns it among the inputs, so the engine shows no drift for it
    read = provider.read(created.id, created.outs)
    assert read.inputs is not None and read.inputs[IDENTITY_KEY] == IDENTITY


def test_the_same_create_in_a_new_process_replays_the_first(emulator: EmulatorProcess) -> None:
    first = provider_for(emulator).create(keyed())
    again = fresh_provider(emulator).create(keyed())
    assert again.id == first.id
    assert [r["replayed"] for r in posts(emulator)] == [False, True]
    # a new source costs its POST; a replay has its id confirmed with an empty PUT
    path = f"/v1/config/log-sources/{first.id}"
    assert calls(emulator) == [("POST", LIST, 201), ("POST", LIST, 201), ("PUT", path, 200)]


def test_another_resource_or_another_body_is_another_source(emulator: EmulatorProcess) -> None:
    provider = provider_for(emulator)
    first = provider.create(keyed())
    other_resource = provider.create(keyed(**{IDENTITY_KEY: IDENTITY + "-2"}))
    other_body = provider.create(keyed(name="renamed"))
    assert len({first.id, other_resource.id, other_body.id}) == 3
    assert [r["status"] for r in posts(emulator)] == [201, 201, 201]  # never 409


def test_a_replay_of_a_deleted_source_creates_a_new_one(emulator: EmulatorProcess) -> None:
    provider = provider_for(emulator)
    first = provider.create(keyed())
    provider.delete(first.id, keyed())
    second = fresh_provider(emulator).create(keyed())
    assert second.id != first.id
    provider.delete(second.id, keyed())
    third = fresh_provider(emulator).create(keyed())
    assert len({first.id, second.id, third.id}) == 3
    assert [r["replayed"] for r in posts(emulator)] == [False, True, False, True, True, False]


def test_a_replay_of_a_deleted_source_without_its_header_creates_a_new_one(
    emulator: EmulatorProcess,
) -> None:
    # A proxy strips `Idempotent-Replayed`: the replay of the destroyed source looks new, and
    # here it comes within the second its create was made in, so its `createdAt` cannot tell
    # either: the delete holds until that second has passed, and the replay is then older.
    provider = provider_for(emulator)
    time.sleep(1 - time.time() % 1)  # (the emulator shares this machine's clock)
    first = provider.create(keyed())
    assert first.outs is not None
    provider.delete(first.id, first.outs)  # the create's outputs, `createdAt` among them
    assert time.gmtime(time.time()) != time.gmtime(created_epoch(first)), "the delete held"
    emulator.set_faults({"rules": [{"method": "POST", "fault": "noReplayHeader"}]})
    mark = len(emulator.requests())
    second = fresh_provider(emulator).create(keyed())
    assert second.id != first.id
    gone = f"{LIST}/{first.id}"
    # the cost of a replay of a deleted source: its 404 is asked twice before it counts
    assert calls(emulator)[mark:] == [
        ("POST", LIST, 201),
        ("PUT", gone, 404),
        ("PUT", gone, 404),
        ("POST", LIST, 201),
    ]
    assert [r.id for r in provider_client_sources()] == [second.id]


def test_the_delete_ending_a_forced_replacement_keeps_the_source_its_create_got_back(
    emulator: EmulatorProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = provider_for(emulator)
    first = provider.create(keyed())
    # `up --replace`: a create with the same inputs in the same process, then Delete(old id)
    replacement = provider.create(keyed())
    assert replacement.id == first.id
    emulator.clear_requests()
    provider.delete(first.id, keyed())
    assert emulator.requests() == []
    line = capsys.readouterr().err
    assert f"kept log source {first.id} (name 'test-loki') instead of deleting it" in line
    # remembered for that one delete only, and only by that process
    fresh_provider(emulator).delete(first.id, keyed())
    assert [r["method"] for r in emulator.requests()] == ["DELETE"]


def test_a_forced_replacement_behind_a_proxy_stripping_the_replay_header_keeps_the_source(
    emulator: EmulatorProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without `Idempotent-Replayed`, the record's createdAt, older than the answer's Date
    # (both the server's clock), shows the "new" source is the old one.
    provider = provider_for(emulator)
    first = provider.create(keyed())
    time.sleep(REPLAY_AGE_SECONDS + 1.5)  # the old source was made in an earlier `up`
    emulator.set_faults({"rules": [{"method": "POST", "fault": "noReplayHeader"}]})
    replacement = provider.create(keyed())
    assert replacement.id == first.id
    emulator.clear_requests()
    provider.delete(first.id, keyed())
    assert emulator.requests() == []
    assert f"kept log source {first.id}" in capsys.readouterr().err
    assert [r.id for r in provider_client_sources()] == [first.id]


def test_a_dropped_answer_is_retried_under_the_same_key(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"rules": [{"method": "POST", "sequence": ["drop", "drop"]}]})
    created = provider_for(emulator).create(keyed())
    # (the emulator's log marks a dropped answer as not replayed, even when it was a replay)
    assert [(r["status"], r["fault"]) for r in posts(emulator)] == [
        (201, "drop"),
        (201, "drop"),
        (201, None),
    ]
    assert posts(emulator)[-1]["replayed"] is True
    emulator.clear_faults()
    assert [r.id for r in provider_client_sources()] == [created.id]


def test_one_404_from_the_existence_check_does_not_make_a_second_source(
    emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = provider_for(emulator).create(keyed())
    # A stale or glitching 404 on the first check: the second check finds the source.
    real = SigSentryClient.log_source_exists
    checks: list[str] = []

    def glitching(self: SigSentryClient, log_source_id: str, **kwargs: Any) -> bool:
        checks.append(log_source_id)
        return len(checks) > 1 and real(self, log_source_id, **kwargs)

    monkeypatch.setattr(SigSentryClient, "log_source_exists", glitching)
    again = fresh_provider(emulator).create(keyed())
    assert again.id == first.id and checks == [first.id, first.id]
    assert [r.id for r in provider_client_sources()] == [first.id]


def created_epoch(created: Any) -> float:
    stamp = created.outs["createdAt"]
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def provider_client_sources() -> list[Any]:
    client = _runtime.account({}).client()
    return list(client.iter_log_sources())


def test_a_resource_without_identity_still_creates(emulator: EmulatorProcess) -> None:
    provider = provider_for(emulator)
    one = provider.create(inputs("loki"))
    two = provider.create(inputs("loki"))
    assert one.id != two.id  # random keys: no replay between calls


def test_too_many_deleted_replays_give_a_clear_error(
    emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sigsentry_pulumi import provider as module

    monkeypatch.setattr(module, "MAX_CREATE_GENERATIONS", 2)
    provider = provider_for(emulator)
    for _ in range(2):
        created = fresh_provider(emulator).create(keyed())
        provider.delete(created.id, keyed())
    with pytest.raises(SigSentryError, match="24-hour idempotency window"):
        fresh_provider(emulator).create(keyed())
