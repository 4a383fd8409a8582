"""Where the client's settings come from: arguments or stack config, then the environment.

`resolve_settings` reads the provider's stack config (`sigsentry:apiKey`, `sigsentry:apiUrl`,
`sigsentry:projectId`, `sigsentry:timeout`, `sigsentry:maxRetries`) with the environment
variables `SIGSENTRY_API_KEY`, `SIGSENTRY_API_URL` and `SIGSENTRY_PROJECT_ID` as fallbacks; a
config value always wins. Numbers may arrive as strings (`pulumi config set`) or floats (gRPC
carries every number as a float). A bad or missing value raises `ConfigurationError` naming the
setting and both ways to set it; so does a key that cannot be sent in an HTTP header.

A named account (`account="tenantb"`) reads the same settings under its own namespace
(`tenantb:apiKey`, ...) and never the environment, so one account's key cannot stand in for
another's; its messages name its own keys.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from ._constants import (
    CONFIG_API_KEY,
    CONFIG_API_URL,
    CONFIG_MAX_RETRIES,
    CONFIG_PARALLELISM,
    CONFIG_PROJECT_ID,
    CONFIG_TIMEOUT,
    DEFAULT_API_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_PARALLELISM,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_API_URL,
    ENV_PARALLELISM,
    ENV_PROJECT_ID,
    MAX_PARALLELISM,
)
from ._errors import ConfigurationError

__all__ = [
    "CONFIG_VALIDATE",
    "ClientSettings",
    "read_parallelism",
    "read_validate",
    "resolve_settings",
]

ConfigGetter = Callable[[str], object]

CONFIG_VALIDATE: Final = "sigsentry:validate"
_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off", ""})


@dataclass(frozen=True)
class ClientSettings:
    """Everything a client needs. The key is kept out of repr()."""

    api_key: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    project_id: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES


def resolve_settings(
    config: ConfigGetter | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    account: str | None = None,
) -> ClientSettings:
    """Settings from `config` (a `ConfigureRequest.config.get`-style getter), then `environ`.

    `account` names a config namespace other than `sigsentry`: its keys are read instead, and
    no environment variable is.
    """
    get = config or (lambda _key: None)
    key_setting, url_setting, project_setting, timeout_setting, retries_setting = (
        f"{account}:{key.partition(':')[2]}" if account else key
        for key in (
            CONFIG_API_KEY,
            CONFIG_API_URL,
            CONFIG_PROJECT_ID,
            CONFIG_TIMEOUT,
            CONFIG_MAX_RETRIES,
        )
    )
    env: Mapping[str, str] = os.environ if environ is None else environ
    if account:
        env = {}  # a named account never reads the environment
    api_key = _text(get(key_setting), key_setting) or env.get(ENV_API_KEY, "").strip()
    if not api_key:
        if account:
            raise ConfigurationError(
                f"No API key is set for the SigSentry account {account!r}. Run `pulumi config "
                f"set --secret {key_setting} <key>` (a named account never reads {ENV_API_KEY})"
            )
        raise ConfigurationError(
            f"No SigSentry API key is set. Run `pulumi config set --secret {key_setting} "
            f"<key>`, or set the {ENV_API_KEY} environment variable before running pulumi"
        )
    if not all("!" <= char <= "~" for char in api_key):
        # httpx sends header values as ASCII and h11 refuses control characters: say so now,
        # naming where the key comes from, never what it holds.
        where = key_setting if account else f"{key_setting} or {ENV_API_KEY}"
        raise ConfigurationError(
            f"The SigSentry API key ({where}) holds a space, a line break, a control or a "
            "non-ASCII character, so it cannot be sent in an HTTP header. Set it again exactly "
            f"as SigSentry issued it: `pulumi config set --secret {key_setting} <key>`"
        )
    api_url = _text(get(url_setting), url_setting) or env.get(ENV_API_URL, "").strip()
    project_id = _text(get(project_setting), project_setting) or env.get(ENV_PROJECT_ID, "")
    return ClientSettings(
        api_key=api_key,
        api_url=normalize_api_url(api_url or DEFAULT_API_URL, url_setting),
        project_id=project_id.strip() or None,
        timeout=_timeout(get(timeout_setting), timeout_setting),
        max_retries=_max_retries(get(retries_setting), retries_setting),
    )


def read_validate(config: ConfigGetter) -> bool:
    """`sigsentry:validate`: whether `check` proves the settings with one list request."""
    value = config(CONFIG_VALIDATE)
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigurationError(
        f"{CONFIG_VALIDATE} must be true or false: `pulumi config set {CONFIG_VALIDATE} true`"
    )


def read_parallelism(config: ConfigGetter | None, environ: Mapping[str, str] | None = None) -> int:
    """`sigsentry:parallelism` (or SIGSENTRY_PARALLELISM): how many calls the plugin serves at
    once, a whole number from 1 to `MAX_PARALLELISM`. A process-wide setting: named accounts
    have none of their own."""
    value = config(CONFIG_PARALLELISM) if config else None
    env: Mapping[str, str] = os.environ if environ is None else environ
    if value is None or value == "":
        value = env.get(ENV_PARALLELISM, "").strip() or None
    fix = (
        f"a whole number from 1 to {MAX_PARALLELISM} (calls served at once; 4 keeps the "
        f"Pulumi SDK's own), for example `pulumi config set {CONFIG_PARALLELISM} "
        f"{DEFAULT_PARALLELISM}`, or {ENV_PARALLELISM}"
    )
    try:
        number = _number(value, CONFIG_PARALLELISM, str(DEFAULT_PARALLELISM))
    except ConfigurationError:
        raise ConfigurationError(f"{CONFIG_PARALLELISM} must be {fix}") from None
    if number is None:
        return DEFAULT_PARALLELISM
    if number != int(number) or not 1 <= number <= MAX_PARALLELISM:
        raise ConfigurationError(f"{CONFIG_PARALLELISM} must be {fix}")
    return int(number)


def normalize_api_url(value: str, setting: str) -> str:
    """`value` without a trailing slash, once it is known to be an absolute http(s) URL."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"{setting} must be an absolute http:// or https:// URL such as {DEFAULT_API_URL}"
        )
    return value.rstrip("/")


def _text(value: object, key: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigurationError(f"{key} must be a string: `pulumi config set {key} <value>`")
    return value.strip()


def _number(value: object, key: str, example: str) -> float | None:
    if value is None or value == "":
        return None
    fix = f"for example `pulumi config set {key} {example}`"
    if isinstance(value, bool):
        raise ConfigurationError(f"{key} must be a number, {fix}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ConfigurationError(f"{key} must be a number, {fix}") from None
    else:
        raise ConfigurationError(f"{key} must be a number, {fix}")
    if not math.isfinite(number):
        raise ConfigurationError(f"{key} must be a finite number, {fix}")
    return number


def _timeout(value: object, key: str) -> float:
    number = _number(value, key, "30")
    if number is None:
        return DEFAULT_TIMEOUT
    if number <= 0:
        raise ConfigurationError(
            f"{key} must be a positive number of seconds, for example `pulumi config set {key} 30`"
        )
    return number


def _max_retries(value: object, key: str) -> int:
    number = _number(value, key, "3")
    if number is None:
        return DEFAULT_MAX_RETRIES
    if number < 0 or number != int(number):
        raise ConfigurationError(
            f"{key} must be a whole number of retries (0 or more), "
            f"for example `pulumi config set {key} 3`"
        )
    return int(number)
