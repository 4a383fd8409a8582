"""`sigsentry:parallelism`: read like the other settings, and the pool widening it drives."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from sigsentry_pulumi import ConfigurationError
from sigsentry_pulumi._config import read_parallelism
from sigsentry_pulumi._constants import DEFAULT_PARALLELISM
from sigsentry_pulumi._workers import widen_worker_pool


@pytest.mark.parametrize(
    ("config", "environ", "expected"),
    [
        ({}, {}, DEFAULT_PARALLELISM),
        ({"sigsentry:parallelism": "4"}, {}, 4),
        ({"sigsentry:parallelism": 32.0}, {}, 32),  # gRPC carries numbers as floats
        ({}, {"SIGSENTRY_PARALLELISM": "8"}, 8),
        ({"sigsentry:parallelism": "2"}, {"SIGSENTRY_PARALLELISM": "8"}, 2),  # config wins
        ({"sigsentry:parallelism": "64"}, {}, 64),
    ],
)
def test_parallelism_is_read_from_config_then_the_environment(
    config: dict[str, object], environ: dict[str, str], expected: int
) -> None:
    assert read_parallelism(config.get, environ) == expected


@pytest.mark.parametrize("raw", ["0", "65", "2.5", "many", True, -1.0])
def test_a_bad_parallelism_names_the_setting_and_the_range(raw: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        read_parallelism({"sigsentry:parallelism": raw}.get, {})
    message = str(caught.value)
    assert "sigsentry:parallelism must be a whole number from 1 to 64" in message
    assert "SIGSENTRY_PARALLELISM" in message


def test_widening_raises_the_running_thread_s_own_pool_and_never_narrows_it() -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert pool.submit(widen_worker_pool, 6).result() == 6
        assert len(pool._threads) == 6  # started at once, not one per later submit
        assert pool.submit(widen_worker_pool, 3).result() == 6
        started = threading.Barrier(6, timeout=10)
        list(pool.map(lambda _: started.wait(), range(6)))  # six at once, or a timeout


def test_outside_a_pool_nothing_is_widened_and_nothing_said(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert widen_worker_pool(16) is None
    assert capsys.readouterr().err == ""
