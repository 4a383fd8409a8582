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
from mypy.nodes import ARG_NAMED, CallExpr, DictExpr, Expression, StrExpr, TypeInfo
from mypy.plugin import FunctionSigContext, Plugin
from mypy.types import (
    AnyType,
    CallableType,
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
    """One overload of the call (mypy asks for each in turn): the call's `type` decides.

    The call's arguments are read by name, from the call itself when the overload takes them
    as `**kwargs: Unpack[...]` (PEP 692), so the check holds whatever shape the overloads have.
    """
    declared = ctx.default_signature
    # An overload taking `**kwargs: Unpack[SomeTypedDict]` becomes one with named parameters,
    # as mypy checks it; an overload with named parameters is returned as it is.
    signature = declared.with_unpacked_kwargs()
    names = signature.arg_names
    if "type" not in names or "credentials" not in names:
        return declared  # LogSource(name, LogSourceArgs(...), opts)
    type_args = _argument(ctx, "type")
    if len(type_args) != 1 or not isinstance(type_args[0], StrExpr):
        return declared
    type_index, credentials_index = names.index("type"), names.index("credentials")
    source_type = type_args[0].value
    if source_type not in LOG_SOURCE_TYPES:
        # Said once (mypy drops the same error reported again for the other overloads); every
        # overload then accepts any `type` and `credentials`, so mypy adds no "No overload
        # variant" error listing every signature, and still checks the other arguments.
        ctx.api.fail(
            f'"{source_type}" is not a SigSentry log source type; use one of: '
            + ", ".join(LOG_SOURCE_TYPES),
            type_args[0],
        )
        return _accepting(signature, type_index, credentials_index)
    if _literal(signature.arg_types[type_index]) != source_type:
        return declared
    shape = _typed_dict(signature.arg_types[credentials_index])
    credentials_args = _argument(ctx, "credentials")
    if shape is None or len(credentials_args) != 1:
        return declared
    literal = credentials_args[0]
    if not isinstance(literal, DictExpr) or not isinstance(ctx.api, TypeChecker):
        return declared
    # Check the literal against this type's TypedDict (mypy reports each key at fault), then
    # let this overload accept it, so mypy does not add a vague "No overload variant" error.
    ctx.api.expr_checker.accept(literal, type_context=shape)
    return _accepting(signature, credentials_index)


def _argument(ctx: FunctionSigContext, name: str) -> list[Expression]:
    """The expressions the call passes as parameter `name`: mypy's own mapping when the
    overload declares the parameter, else the call's keyword argument of that name."""
    declared = ctx.default_signature
    if name in declared.arg_names:
        return ctx.args[declared.arg_names.index(name)]
    call = ctx.context
    if not isinstance(call, CallExpr):
        return []
    return [
        arg
        for arg, kind, arg_name in zip(call.args, call.arg_kinds, call.arg_names, strict=True)
        if kind == ARG_NAMED and arg_name == name
    ]


def _accepting(signature: CallableType, *indexes: int) -> CallableType:
    """`signature` with the parameters at `indexes` taking anything."""
    arg_types = list(signature.arg_types)
    for index in indexes:
        arg_types[index] = AnyType(TypeOfAny.special_form)
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
