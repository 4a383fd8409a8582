"""Where the client's settings come from: arguments or stack config, then the environment.

`resolve_settings` reads the provider's stack config (`sigsentry:apiKey`, `sigsentry:apiUrl`,
`sigsentry:projectId`, `sigsentry:timeout`, `sigsentry:maxRetries`) with the environment
variables `SIGSENTRY_API_KEY`, `SIGSENTRY_API_URL` and `SIGSENTRY_PROJECT_ID` as fallbacks; a
config value always wins. Numbers may arrive as strings (`pulumi config set`) or floats (gRPC
carries every number as a float). A bad or missing value raises `ConfigurationError` naming the
setting and both ways to set it; so does a key that cannot be sent in an HTTP header.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ._constants import (
    CONFIG_API_KEY,
    CONFIG_API_URL,
    CONFIG_MAX_RETRIES,
    CONFIG_PROJECT_ID,
    CONFIG_TIMEOUT,
    DEFAULT_API_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_API_URL,
    ENV_PROJECT_ID,
)
from ._errors import ConfigurationError

__all__ = ["ClientSettings", "resolve_settings"]

ConfigGetter = Callable[[str], object]


@dataclass(frozen=True)
class ClientSettings:
    """Everything a client needs. The key is kept out of repr()."""

    api_key: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    project_id: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES


def resolve_settings(
    config: ConfigGetter | None = None, environ: Mapping[str, str] | None = None
) -> ClientSettings:
    """Settings from `config` (a `ConfigureRequest.config.get`-style getter), then `environ`."""
    get = config or (lambda _key: None)
    env = os.environ if environ is None else environ
    api_key = _text(get(CONFIG_API_KEY), CONFIG_API_KEY) or env.get(ENV_API_KEY, "").strip()
    if not api_key:
        raise ConfigurationError(
            "No SigSentry API key is set. Run `pulumi config set --secret sigsentry:apiKey "
            f"<key>`, or set the {ENV_API_KEY} environment variable before running pulumi"
        )
    if not all("!" <= char <= "~" for char in api_key):
        # httpx sends header values as ASCII and h11 refuses control characters: say so now,
        # naming where the key comes from, never what it holds.
        raise ConfigurationError(
            f"The SigSentry API key ({CONFIG_API_KEY} or {ENV_API_KEY}) holds a space, a line "
            "break, a control or a non-ASCII character, so it cannot be sent in an HTTP header. "
            f"Set it again exactly as SigSentry issued it: `pulumi config set --secret "
            f"{CONFIG_API_KEY} <key>`"
        )
    api_url = _text(get(CONFIG_API_URL), CONFIG_API_URL) or env.get(ENV_API_URL, "").strip()
    project_id = _text(get(CONFIG_PROJECT_ID), CONFIG_PROJECT_ID) or env.get(ENV_PROJECT_ID, "")
    return ClientSettings(
        api_key=api_key,
        api_url=normalize_api_url(api_url or DEFAULT_API_URL, CONFIG_API_URL),
        project_id=project_id.strip() or None,
        timeout=_timeout(get(CONFIG_TIMEOUT)),
        max_retries=_max_retries(get(CONFIG_MAX_RETRIES)),
    )


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


def _timeout(value: object) -> float:
    number = _number(value, CONFIG_TIMEOUT, "30")
    if number is None:
        return DEFAULT_TIMEOUT
    if number <= 0:
        raise ConfigurationError(
            f"{CONFIG_TIMEOUT} must be a positive number of seconds, "
            f"for example `pulumi config set {CONFIG_TIMEOUT} 30`"
        )
    return number


def _max_retries(value: object) -> int:
    number = _number(value, CONFIG_MAX_RETRIES, "3")
    if number is None:
        return DEFAULT_MAX_RETRIES
    if number < 0 or number != int(number):
        raise ConfigurationError(
            f"{CONFIG_MAX_RETRIES} must be a whole number of retries (0 or more), "
            f"for example `pulumi config set {CONFIG_MAX_RETRIES} 3`"
        )
    return int(number)
