"""Where `_accounts` still imports `is_unknown` from: the API's rules are in `_rules`.

Delete this module once `_accounts` imports `is_unknown` from `_rules`.
"""

from ._rules import is_unknown

__all__ = ["is_unknown"]
