"""The guardrail policies under the name this pack's tests and older packs import them by.

The policies live in the installed package, `sigsentry_pulumi.policies` (the `policy` extra);
this module only re-exports them.
"""

from sigsentry_pulumi.policies import (
    CATCH_ALL_SELECTORS,
    DEFAULT_MAX_SOURCES,
    DEFAULT_NAME_PATTERN,
    HOST_TYPES,
    LOG_SOURCE_TYPE,
    PACK_NAME,
    POLICIES,
    RESOURCE_POLICIES,
    STACK_POLICIES,
    cloudwatch_session_token,
    https_hosts,
    max_sources,
    name_pattern,
    no_catch_all_sources,
    unique_type_and_name,
    verify_enabled,
)

__all__ = [
    "CATCH_ALL_SELECTORS",
    "DEFAULT_MAX_SOURCES",
    "DEFAULT_NAME_PATTERN",
    "HOST_TYPES",
    "LOG_SOURCE_TYPE",
    "PACK_NAME",
    "POLICIES",
    "RESOURCE_POLICIES",
    "STACK_POLICIES",
    "cloudwatch_session_token",
    "https_hosts",
    "max_sources",
    "name_pattern",
    "no_catch_all_sources",
    "unique_type_and_name",
    "verify_enabled",
]
