"""A mypy plugin that names the credential key at fault in `LogSource(...)` calls.

Without it mypy already rejects a wrong `type`, a misspelt or missing credential key, or another
type's keys (`LogSource.__init__` and `LogSourceArgs.__init__` have one overload per type), but
only as "No overload variant of "LogSource" matches ...". With it, a call whose `type` is a
string literal and whose `credentials` is a dict literal is checked against
that type's credentials class, so the message names the key:

    error: Extra key "acessKeyId" for TypedDict "CloudWatchCredentials"  [typeddict-unknown-key]
    error: Missing key "accessKeyId" for TypedDict "CloudWatchCredentials"  [typeddict-item]
    error: "cloudwach" is not a SigSentry log source type; use one of: cloudwatch, ...

Enable it in the project's mypy configuration:

    [tool.mypy]
    plugins = ["sigsentry_pulumi.mypy_plugin"]
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.checker import TypeChecker
from mypy.nodes import CallExpr, DictExpr, StrExpr, TypeInfo
from mypy.plugin import FunctionSigContext, Plugin
from mypy.types import (
    AnyType,
    FunctionLike,
    LiteralType,
    Type,
    TypedDictType,
    TypeOfAny,
    UnionType,
    get_proper_type,
)

from ._constants import LOG_SOURCE_TYPES

__all__ = ["SigSentryPlugin", "plugin"]

_CALLABLES = frozenset(
    {"sigsentry_pulumi.resource.LogSource", "sigsentry_pulumi._types.LogSourceArgs"}
)


class SigSentryPlugin(Plugin):
    """Checks each literal `credentials` dict against the credentials class of its `type`."""

    def get_function_signature_hook(
        self, fullname: str
    ) -> Callable[[FunctionSigContext], FunctionLike] | None:
        if fullname in _CALLABLES or self._is_log_source_subclass(fullname):
            return _check_credentials
        return None

    def _is_log_source_subclass(self, fullname: str) -> bool:
        node = self.lookup_fully_qualified(fullname)
        info = node.node if node is not None else None
        return isinstance(info, TypeInfo) and any(
            base.fullname in _CALLABLES for base in info.mro[1:]
        )


def _check_credentials(ctx: FunctionSigContext) -> FunctionLike:
    """One overload of the call: the one of the call's `type` checks the dict literal itself."""
    # The overloads take `**args: Unpack[CloudWatchArgs]` (and so on): spelt out, the keywords
    # are parameters, and the call's own keywords say which expression goes to which.
    signature = ctx.default_signature.with_unpacked_kwargs()
    names = signature.arg_names
    if "type" not in names or "credentials" not in names or not isinstance(ctx.context, CallExpr):
        return signature  # LogSource(name, LogSourceArgs(...), opts)
    type_index, credentials_index = names.index("type"), names.index("credentials")
    given = dict(zip(ctx.context.arg_names, ctx.context.args, strict=True))
    type_arg, literal = given.get("type"), given.get("credentials")
    if not isinstance(type_arg, StrExpr):
        return signature
    source_type = type_arg.value
    if source_type not in LOG_SOURCE_TYPES:
        ctx.api.fail(
            f'"{source_type}" is not a SigSentry log source type; use one of: '
            + ", ".join(LOG_SOURCE_TYPES),
            type_arg,
        )
        return signature
    if _literal(signature.arg_types[type_index]) != source_type:
        return signature
    shape = _typed_dict(signature.arg_types[credentials_index])
    if shape is None or not isinstance(literal, DictExpr) or not isinstance(ctx.api, TypeChecker):
        return signature
    # Check the literal against this type's TypedDict (mypy reports each key at fault), then
    # let this overload accept it, so mypy does not add a vague "No overload variant" error.
    ctx.api.expr_checker.accept(literal, type_context=shape)
    arg_types = list(signature.arg_types)
    arg_types[credentials_index] = AnyType(TypeOfAny.special_form)
    return signature.copy_modified(arg_types=arg_types)


def _literal(declared: Type) -> object:
    for item in _items(declared):
        if isinstance(item, LiteralType):
            return item.value
    return None


def _typed_dict(declared: Type) -> TypedDictType | None:
    for item in _items(declared):
        if isinstance(item, TypedDictType):
            return item
    return None


def _items(declared: Type) -> list[object]:
    proper = get_proper_type(declared)
    if isinstance(proper, UnionType):
        return [get_proper_type(item) for item in proper.items]
    return [proper]


def plugin(_version: str) -> type[Plugin]:
    """mypy's entry point."""
    return SigSentryPlugin
