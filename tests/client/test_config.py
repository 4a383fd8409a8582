"""Provider settings: stack config first, environment second, clear errors for bad values."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from sigsentry_pulumi import ConfigurationError
from sigsentry_pulumi._config import ClientSettings, ConfigGetter, resolve_settings

KEY = "ss_secret_config-test"


def getter(values: Mapping[str, object]) -> ConfigGetter:
    return values.get


def test_defaults_when_only_the_key_is_set() -> None:
    settings = resolve_settings(getter({"sigsentry:apiKey": KEY}), environ={})
    assert settings == ClientSettings(api_key=KEY)
    assert settings.api_url == "https://api.sigsentry.com"
    assert (settings.timeout, settings.max_retries, settings.project_id) == (30.0, 9, None)


def test_config_wins_over_the_environment() -> None:
    env = {
        "SIGSENTRY_API_KEY": "ss_secret_env",
        "SIGSENTRY_API_URL": "http://env.example",
        "SIGSENTRY_PROJECT_ID": "prj_env",
    }
    config = {
        "sigsentry:apiKey": KEY,
        "sigsentry:apiUrl": "http://127.0.0.1:8787/",
        "sigsentry:projectId": "prj_config",
    }
    settings = resolve_settings(getter(config), environ=env)
    assert (settings.api_key, settings.api_url, settings.project_id) == (
        KEY,
        "http://127.0.0.1:8787",
        "prj_config",
    )


def test_the_environment_fills_what_config_leaves_out() -> None:
    env = {"SIGSENTRY_API_KEY": "ss_secret_env", "SIGSENTRY_API_URL": "http://env.example"}
    settings = resolve_settings(getter({}), environ=env)
    assert (settings.api_key, settings.api_url) == ("ss_secret_env", "http://env.example")


def test_a_missing_key_names_both_ways_to_set_it() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(getter({}), environ={})
    message = str(caught.value)
    assert "pulumi config set --secret sigsentry:apiKey" in message
    assert "SIGSENTRY_API_KEY" in message


@pytest.mark.parametrize(
    ("raw", "expected"), [("45", 45.0), (12.5, 12.5), (10, 10.0), (None, 30.0)]
)
def test_timeout_accepts_strings_and_grpc_floats(raw: object, expected: float) -> None:
    config = {"sigsentry:apiKey": KEY, "sigsentry:timeout": raw}
    assert resolve_settings(getter(config), environ={}).timeout == expected


@pytest.mark.parametrize(("raw", "expected"), [("5", 5), (2.0, 2), (0.0, 0), ("0", 0)])
def test_max_retries_accepts_whole_numbers_as_strings_or_floats(raw: object, expected: int) -> None:
    config = {"sigsentry:apiKey": KEY, "sigsentry:maxRetries": raw}
    assert resolve_settings(getter(config), environ={}).max_retries == expected


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("sigsentry:timeout", "soon"),
        ("sigsentry:timeout", -1.0),
        ("sigsentry:timeout", "inf"),
        ("sigsentry:maxRetries", 2.5),
        ("sigsentry:maxRetries", "-1"),
        ("sigsentry:maxRetries", True),
        ("sigsentry:apiUrl", "api.sigsentry.com"),
        ("sigsentry:apiUrl", 42),
    ],
)
def test_bad_values_name_the_setting_and_the_fix(key: str, raw: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(getter({"sigsentry:apiKey": KEY, key: raw}), environ={})
    assert key in str(caught.value)


def test_settings_repr_hides_the_key() -> None:
    settings = resolve_settings(getter({"sigsentry:apiKey": KEY}), environ={})
    assert KEY not in repr(settings) and KEY not in str(settings)
