"""Admin endpoints for tests (`/_admin/...`): reset, request log, faults, keys, settings, and a
comparison of a source's stored credentials with expected ones.

Registered only when the emulator has an admin token; every call needs it in `X-Admin-Token`.
They are not part of the SigSentry API and stay out of `/openapi.json`.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from .backend import READ, WRITE, Backend
from .envelopes import json_body, success
from .errors import FieldIssue, Unauthorized, ValidationFailed
from .faults import FaultSpec
from .state import EmulatorState


class _KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    permissions: list[str] = Field(default_factory=lambda: [READ, WRITE])
    tenantId: str | None = None
    projectId: str | None = None
    newTenant: bool = False
    tenantScoped: bool = False


class _ProjectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenantId: str


class _RateLimitSetting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate: float = Field(ge=0)
    burst: float | None = Field(default=None, ge=1)


class _CredentialsComparison(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credentials: dict[str, str]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quota: int | None = Field(default=None, ge=0)
    rateLimit: _RateLimitSetting | None = None


def add_admin_routes(app: FastAPI, state: EmulatorState) -> None:
    backend = state.backend

    def guard(request: Request) -> None:
        given = request.headers.get("X-Admin-Token", "")
        expected = state.admin_token or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized("admin endpoints need the admin token in X-Admin-Token")

    async def admin_body(request: Request, model: type[BaseModel]) -> Any:
        try:
            return model.model_validate(await json_body(request))
        except ValidationError as exc:
            issues = [
                FieldIssue(".".join(str(p) for p in e["loc"]) or "body", e["msg"])
                for e in exc.errors(include_url=False, include_input=False)
            ]
            raise ValidationFailed("admin request failed validation", issues) from None

    @app.post("/_admin/reset", include_in_schema=False)
    async def reset(request: Request) -> JSONResponse:
        guard(request)
        await run_in_threadpool(backend.reset)
        state.request_log.clear()
        return success({"reset": True})

    @app.get("/_admin/requests", include_in_schema=False)
    async def requests(request: Request) -> JSONResponse:
        guard(request)
        return success(state.request_log.entries())

    @app.delete("/_admin/requests", include_in_schema=False)
    async def clear_requests(request: Request) -> JSONResponse:
        guard(request)
        state.request_log.clear()
        return success({"cleared": True})

    @app.get("/_admin/faults", include_in_schema=False)
    async def get_faults(request: Request) -> JSONResponse:
        guard(request)
        return success(state.faults.spec.model_dump())

    @app.put("/_admin/faults", include_in_schema=False)
    async def put_faults(request: Request) -> JSONResponse:
        guard(request)
        state.faults.install(await admin_body(request, FaultSpec))
        return success(state.faults.spec.model_dump())

    @app.delete("/_admin/faults", include_in_schema=False)
    async def clear_faults(request: Request) -> JSONResponse:
        guard(request)
        state.faults.clear()
        return success({"cleared": True})

    @app.post("/_admin/keys", include_in_schema=False, status_code=201)
    async def create_key(request: Request) -> JSONResponse:
        guard(request)
        spec: _KeyRequest = await admin_body(request, _KeyRequest)
        if spec.newTenant and spec.tenantId is not None:
            raise ValidationFailed(
                "newTenant excludes tenantId", [FieldIssue("tenantId", "omit with newTenant")]
            )
        minted = await run_in_threadpool(
            lambda: backend.mint_key(
                permissions=spec.permissions,
                tenant_id=None if spec.newTenant else (spec.tenantId or state.default_tenant),
                project_id=spec.projectId,
                tenant_scoped=spec.tenantScoped,
            )
        )
        return success(
            {
                "apiKey": minted.api_key,
                "keyId": minted.key_id,
                "tenantId": minted.tenant_id,
                "projectId": minted.project_id,
                "defaultProjectId": minted.default_project_id,
                "permissions": list(minted.permissions),
            },
            status=201,
        )

    @app.post("/_admin/projects", include_in_schema=False, status_code=201)
    async def create_project(request: Request) -> JSONResponse:
        guard(request)
        spec: _ProjectRequest = await admin_body(request, _ProjectRequest)
        project = await run_in_threadpool(backend.create_project, spec.tenantId)
        return success({"projectId": project, "tenantId": spec.tenantId}, status=201)

    @app.post("/_admin/log-sources/{source_id}/credentials/compare", include_in_schema=False)
    async def compare_credentials(request: Request, source_id: str) -> JSONResponse:
        # Lets a test check what SigSentry stores without any route returning a credential:
        # the caller sends the values it expects and learns only which keys differ.
        guard(request)
        spec: _CredentialsComparison = await admin_body(request, _CredentialsComparison)
        differing = await run_in_threadpool(
            backend.credential_differences, source_id, spec.credentials
        )
        return success({"id": source_id, "matches": not differing, "differingKeys": differing})

    @app.get("/_admin/settings", include_in_schema=False)
    async def get_settings(request: Request) -> JSONResponse:
        guard(request)
        return success(_settings(backend))

    @app.put("/_admin/settings", include_in_schema=False)
    async def put_settings(request: Request) -> JSONResponse:
        guard(request)
        spec: _Settings = await admin_body(request, _Settings)
        if spec.quota is not None:
            backend.quota = spec.quota
        if spec.rateLimit is not None:
            backend.rate_limiter.configure(spec.rateLimit.rate, spec.rateLimit.burst)
        return success(_settings(backend))


def _settings(backend: Backend) -> dict[str, object]:
    limiter = backend.rate_limiter
    return {"quota": backend.quota, "rateLimit": {"rate": limiter.rate, "burst": limiter.burst}}
