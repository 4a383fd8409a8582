"""`LogSource`: a SigSentry log source as a Pulumi resource.

```python
src = LogSource(
    "prod-cloudwatch",
    type="cloudwatch",
    credentials={"accessKeyId": cfg.require_secret("awsKeyId"),
                 "secretAccessKey": cfg.require_secret("awsSecret")},
    sources=["/aws/lambda/checkout-api"],
)
```

Python names are snake_case; the names stored in state are the API's camelCase (`isActive`,
`projectId`, `tenantId`, `createdAt`), mapped by `translate_input_property` /
`translate_output_property` from an explicit table, so credential keys inside the
`credentials` map are never renamed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import pulumi
from pulumi import Input, Output, ResourceOptions
from pulumi.dynamic import Resource

from ._constants import RESOURCE_MODULE, RESOURCE_NAME
from .provider import IDENTITY_KEY, LogSourceProvider

__all__ = ["LogSource"]

_TO_STATE: Final = {
    "is_active": "isActive",
    "project_id": "projectId",
    "tenant_id": "tenantId",
    "created_at": "createdAt",
}
_TO_PYTHON: Final = {state: python for python, state in _TO_STATE.items()}

SECRET_OUTPUTS: Final = ("credentials",)
REPLACE_ON_CHANGES: Final = ("type", "projectId")


class LogSource(Resource, module=RESOURCE_MODULE, name=RESOURCE_NAME):
    """A log source SigSentry reads from: CloudWatch, Datadog, Loki, Splunk, Elastic or GCP.

    Type token `pulumi-python:dynamic/sigsentry:LogSource`. `credentials` is always secret.
    Changing `type` or `project_id` replaces the source; anything else updates it in place.
    """

    type: Output[str]
    """One of cloudwatch, datadog, loki, splunk, elastic, gcp_logging."""
    name: Output[str]
    """The source's label in SigSentry (defaults to the resource name)."""
    credentials: Output[dict[str, str]]
    """The platform credentials (secret; SigSentry never returns them)."""
    sources: Output[list[str]]
    """Log groups, indexes or selectors SigSentry reads."""
    is_active: Output[bool]
    """False pauses the source: analyses skip it."""
    verify: Output[bool]
    """True runs SigSentry's credential test after each create and update."""
    project_id: Output[str]
    """The SigSentry project the source belongs to."""
    tenant_id: Output[str]
    """The SigSentry tenant the source belongs to."""
    created_at: Output[str]
    """When SigSentry created the source (UTC, ISO 8601)."""

    def __init_subclass__(
        cls, module: str = RESOURCE_MODULE, name: str = RESOURCE_NAME, **kwargs: Any
    ) -> None:
        # `pulumi.dynamic.Resource` would give a subclass the token `dynamic:Resource`, which
        # changes its URNs and hides it from policy packs: a subclass keeps LogSource's token.
        super().__init_subclass__(module=module, name=name, **kwargs)

    def __init__(
        self,
        resource_name: str,
        *,
        type: Input[str],
        credentials: Input[Mapping[str, Input[str]]],
        sources: Input[Sequence[Input[str]]],
        name: Input[str] | None = None,
        is_active: Input[bool] | None = None,
        verify: Input[bool] | None = None,
        project_id: Input[str] | None = None,
        opts: ResourceOptions | None = None,
    ) -> None:
        """Declare a log source. `name` defaults to `resource_name`; `is_active` to True."""
        props = _props(
            type=type,
            name=resource_name if name is None else name,
            credentials=Output.secret(credentials),
            sources=sources,
            is_active=is_active,
            verify=verify,
            project_id=project_id,
        )
        props[IDENTITY_KEY] = _identity(resource_name, opts)
        self._register(resource_name, props, opts)

    @classmethod
    def get(
        cls, resource_name: str, id: Input[str], opts: ResourceOptions | None = None
    ) -> LogSource:
        """Read an existing log source by id (`ls_...`) into the program without managing it."""
        source = cls.__new__(cls)
        merged = ResourceOptions.merge(opts, ResourceOptions(id=id))
        source._register(resource_name, _props(), merged)
        return source

    def _register(
        self, resource_name: str, props: dict[str, Any], opts: ResourceOptions | None
    ) -> None:
        # The user's options come last so their scalars win; the lists are concatenated, so the
        # secret and replacement settings are always kept.
        required = ResourceOptions(
            additional_secret_outputs=list(SECRET_OUTPUTS),
            replace_on_changes=list(REPLACE_ON_CHANGES),
        )
        super().__init__(LogSourceProvider(), resource_name, props, required.merge(opts))

    def translate_input_property(self, prop: str) -> str:
        return _TO_STATE.get(prop, prop)

    def translate_output_property(self, prop: str) -> str:
        return _TO_PYTHON.get(prop, prop)


def _props(**inputs: Any) -> dict[str, Any]:
    """Every input and output name, so each becomes an `Output` attribute of the resource."""
    names = ("type", "name", "credentials", "sources", "is_active", "verify", "project_id")
    props: dict[str, Any] = dict.fromkeys(names)
    props.update(inputs)
    props.update(tenant_id=None, created_at=None)
    return props


def _identity(resource_name: str, opts: ResourceOptions | None) -> Input[str]:
    """What names the resource in its stack, as its URN does: project, stack, parent, name.

    The provider derives each create's Idempotency-Key from it (the plugin never sees the URN).
    """
    own = f"{pulumi.get_project()}/{pulumi.get_stack()}/{RESOURCE_MODULE}:{RESOURCE_NAME}"
    parent = opts.parent if opts is not None else None
    if parent is None:
        return f"{own}/{resource_name}"
    return Output.concat(own, "/", parent.urn, "/", resource_name)
