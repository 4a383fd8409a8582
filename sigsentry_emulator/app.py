"""The HTTP layer: routes, JSON envelopes, request ids, faults, the request log, admin endpoints.

Each route decodes its request, calls one `Backend` method in a worker thread (SQLite calls block)
and encodes the result; every rule lives in the backend. `EdgeMiddleware` runs around all routes:
it echoes or generates `X-Request-Id`, applies injected faults, and records the request log.
Admin routes (`/_admin/...`) are registered only when an admin token is configured, need it in
`X-Admin-Token`, and are left out of `/openapi.json`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .backend import Backend, Caller
from .errors import (
    ApiError,
    FieldIssue,
    InternalError,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from .faults import FaultInjector, FaultSpec
from .models import (
    CreatedEnvelope,
    CreateLogSourceRequest,
    DeletedEnvelope,
    ErrorEnvelope,
    Health,
    ListEnvelope,
    TestEnvelope,
    UpdatedEnvelope,
    UpdateLogSourceRequest,
    create_request_json_schemas,
    decode_json,
)
from .requestlog import RequestLog

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ConnectionDropper = Callable[[tuple[str, int]], bool]

logger = logging.getLogger("sigsentry_emulator")

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
_UNLOGGED_PREFIXES = ("/_admin", "/healthz")
_SOURCE_PATH = "/v1/config/log-sources"


class EmulatorState:
    """What the app shares with the CLI and tests: the backend, faults, log, admin token."""

    def __init__(
        self,
        backend: Backend,
        *,
        admin_token: str | None = None,
        faults: FaultInjector | None = None,
        request_log: RequestLog | None = None,
    ) -> None:
        self.backend = backend
        self.admin_token = admin_token
        self.faults = faults or FaultInjector()
        self.request_log = request_log or RequestLog()
        # the tenant admin-minted keys join when the request names none (the seeded one)
        self.default_tenant: str | None = None
        # set by the server runner: closes a client's connection without an answer
        self.drop_connection: ConnectionDropper | None = None

    def __repr__(self) -> str:
        return f"EmulatorState(admin={'on' if self.admin_token else 'off'})"


def create_app(state: EmulatorState) -> FastAPI:
    app = FastAPI(
        title="SigSentry log-source API (local emulator)",
        version="1",
        description="The SigSentry log-source configuration API, emulated locally.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.emulator = state
    _add_error_handlers(app)
    _add_api_routes(app, state)
    if state.admin_token:
        _add_admin_routes(app, state)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(EdgeMiddleware, state=state)
    return app


# middleware


class EdgeMiddleware:
    """Request ids, injected faults and the request log, around every route."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or f"req_{uuid.uuid4().hex}"
        path: str = scope["path"]
        internal = path.startswith(_UNLOGGED_PREFIXES)
        fault = None if internal else self.state.faults.decide(scope["method"], path)
        seen: dict[str, Any] = {"status": None, "replayed": False, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
                seen["status"] = message["status"]
                seen["started"] = True
                seen["replayed"] = (b"idempotent-replayed", b"true") in headers
            await send(message)

        async def swallow(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]

        try:
            if fault is None or fault.kind == "slow":
                if fault is not None:
                    await asyncio.sleep(fault.delay_seconds)
                await self.app(scope, receive, send_with_id)
            elif fault.kind == "drop":
                await self.app(scope, receive, swallow)
                await self._drop(scope)
            else:
                error = _fault_error(fault.kind, fault.retry_after)
                await _error_response(error)(scope, receive, send_with_id)
        except Exception:
            # answered here rather than by Starlette's outer handler so the 500 keeps its
            # X-Request-Id; the traceback goes to the server log, never to the client
            logger.exception("unhandled error answering %s %s", scope["method"], path)
            if not seen["started"]:
                await _error_response(InternalError("internal error"))(scope, receive, send_with_id)
        finally:
            if not internal:
                self.state.request_log.add(
                    method=scope["method"],
                    path=path,
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=seen["status"],
                    request_id=request_id,
                    replayed=seen["replayed"],
                    fault=None if fault is None else fault.kind,
                )

    async def _drop(self, scope: Scope) -> None:
        client = scope.get("client")
        dropper = self.state.drop_connection
        if client is None or dropper is None or not dropper((client[0], client[1])):
            raise RuntimeError("cannot drop this connection: the emulator runs without a server")
        # let the event loop deliver connection_lost, so the server sees a client that went away
        await asyncio.sleep(0)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None


def _fault_error(kind: str, retry_after: int) -> ApiError:
    if kind == "429":
        return RateLimited("too many requests (injected fault)", retry_after=retry_after)
    if kind == "503":
        return ServiceUnavailable("service unavailable (injected fault)", retry_after=retry_after)
    return InternalError("internal error (injected fault)")


# errors


def _error_response(error: ApiError) -> JSONResponse:
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(error.envelope(), status_code=error.status, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _error_response(exc)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            body = {
                "success": False,
                "error": {"code": "METHOD_NOT_ALLOWED", "message": "method not allowed here"},
            }
            return JSONResponse(body, status_code=405, headers=exc.headers)
        if exc.status_code == 404:
            return _error_response(_NoRoute("no such endpoint"))
        return _error_response(InternalError(str(exc.detail)))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


class _NoRoute(ApiError):
    status = 404
    code = "NOT_FOUND"


# the API


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": text}
    for status, text in {
        400: "VALIDATION_ERROR",
        401: "UNAUTHORIZED",
        403: "FORBIDDEN or QUOTA_EXCEEDED",
        404: "NOT_FOUND",
        429: "RATE_LIMITED (see Retry-After)",
        500: "INTERNAL_ERROR",
        503: "SERVICE_UNAVAILABLE (see Retry-After)",
    }.items()
}
_PROJECT_HEADER = {
    "name": "X-Project-Id",
    "in": "header",
    "required": False,
    "description": "the project to act on; required with a tenant-scoped key",
    "schema": {"type": "string", "pattern": "^(prj_.*)?$"},  # empty: as if absent
}
_ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {
        "type": "string",
        "pattern": "^ls_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    },
}


def _body_spec(model: type[BaseModel]) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"required": True, "content": {"application/json": {"schema": ref}}}


def _add_api_routes(app: FastAPI, state: EmulatorState) -> None:
    backend = state.backend

    @app.get("/healthz", response_model=Health, openapi_extra={"security": []})
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        _SOURCE_PATH,
        status_code=201,
        response_model=CreatedEnvelope,
        responses={**_ERRORS, 409: {"model": ErrorEnvelope, "description": "IDEMPOTENCY_CONFLICT"}},
        openapi_extra={
            "parameters": [
                _PROJECT_HEADER,
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                        "pattern": "^[\\x20-\\x7e]+$",
                    },
                },
            ],
            "requestBody": _body_spec(CreateLogSourceRequest),
        },
        summary="Create a log source",
    )
    async def create_log_source(request: Request) -> JSONResponse:
        caller = await _caller(request, backend)
        body = await request.body()  # decoded by the backend, after the permission check
        result = await run_in_threadpool(
            backend.create_log_source, caller, body, request.headers.get("Idempotency-Key")
        )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return _success(result.record, status=result.status, headers=headers)

    @app.get(
        _SOURCE_PATH,
        response_model=ListEnvelope,
        responses=_ERRORS,
        openapi_extra={
            "parameters": [
                _PROJECT_HEADER,
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                },
                {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
            ]
        },
        summary="List the project's log sources, oldest first",
    )
    async def list_log_sources(request: Request) -> JSONResponse:
        caller = await _caller(request, backend)
        query = request.query_params
        records, next_cursor = await run_in_threadpool(
            backend.list_log_sources, caller, query.get("limit"), query.get("cursor")
        )
        return JSONResponse({"success": True, "data": records, "nextCursor": next_cursor})

    @app.put(
        _SOURCE_PATH + "/{id}",
        response_model=UpdatedEnvelope,
        responses=_ERRORS,
        openapi_extra={
            "parameters": [_ID_PARAM, _PROJECT_HEADER],
            "requestBody": _body_spec(UpdateLogSourceRequest),
        },
        summary="Update a log source (partial)",
    )
    async def update_log_source(request: Request) -> JSONResponse:
        caller = await _caller(request, backend)
        body = await request.body()
        await run_in_threadpool(backend.update_log_source, caller, request.path_params["id"], body)
        return _success({"updated": True})

    @app.delete(
        _SOURCE_PATH + "/{id}",
        response_model=DeletedEnvelope,
        responses=_ERRORS,
        openapi_extra={"parameters": [_ID_PARAM, _PROJECT_HEADER]},
        summary="Delete a log source",
    )
    async def delete_log_source(request: Request) -> JSONResponse:
        caller = await _caller(request, backend)
        await run_in_threadpool(backend.delete_log_source, caller, request.path_params["id"])
        return _success({"deleted": True})

    @app.post(
        _SOURCE_PATH + "/{id}/test",
        response_model=TestEnvelope,
        responses=_ERRORS,
        openapi_extra={"parameters": [_ID_PARAM, _PROJECT_HEADER]},
        summary="Check stored credentials and preview log lines (simulated)",
    )
    async def test_log_source(request: Request) -> JSONResponse:
        caller = await _caller(request, backend)
        result = await run_in_threadpool(backend.test_log_source, caller, request.path_params["id"])
        return _success(result)


async def _caller(request: Request, backend: Backend) -> Caller:
    header = request.headers.get("Authorization")
    token = None
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("malformed Authorization header: send Authorization: Bearer <key>")
        token = token.strip()
    return await run_in_threadpool(backend.authenticate, token, request.headers.get("X-Project-Id"))


async def _json_body(request: Request) -> object:
    return decode_json(await request.body())


def _success(
    data: object, *, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"success": True, "data": data}, status_code=status, headers=headers)


# admin


class _KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    permissions: list[str] = Field(default_factory=lambda: ["config:read", "config:write"])
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


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quota: int | None = Field(default=None, ge=0)
    rateLimit: _RateLimitSetting | None = None


def _add_admin_routes(app: FastAPI, state: EmulatorState) -> None:
    backend = state.backend

    def guard(request: Request) -> None:
        given = request.headers.get("X-Admin-Token", "")
        expected = state.admin_token or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized("admin endpoints need the admin token in X-Admin-Token")

    async def admin_body(request: Request, model: type[BaseModel]) -> Any:
        try:
            return model.model_validate(await _json_body(request))
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
        return _success({"reset": True})

    @app.get("/_admin/requests", include_in_schema=False)
    async def requests(request: Request) -> JSONResponse:
        guard(request)
        return _success(state.request_log.entries())

    @app.delete("/_admin/requests", include_in_schema=False)
    async def clear_requests(request: Request) -> JSONResponse:
        guard(request)
        state.request_log.clear()
        return _success({"cleared": True})

    @app.get("/_admin/faults", include_in_schema=False)
    async def get_faults(request: Request) -> JSONResponse:
        guard(request)
        return _success(state.faults.spec.model_dump())

    @app.put("/_admin/faults", include_in_schema=False)
    async def put_faults(request: Request) -> JSONResponse:
        guard(request)
        state.faults.install(await admin_body(request, FaultSpec))
        return _success(state.faults.spec.model_dump())

    @app.delete("/_admin/faults", include_in_schema=False)
    async def clear_faults(request: Request) -> JSONResponse:
        guard(request)
        state.faults.clear()
        return _success({"cleared": True})

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
        return _success(
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
        return _success({"projectId": project, "tenantId": spec.tenantId}, status=201)

    @app.get("/_admin/settings", include_in_schema=False)
    async def get_settings(request: Request) -> JSONResponse:
        guard(request)
        return _success(_settings(backend))

    @app.put("/_admin/settings", include_in_schema=False)
    async def put_settings(request: Request) -> JSONResponse:
        guard(request)
        spec: _Settings = await admin_body(request, _Settings)
        if spec.quota is not None:
            backend.quota = spec.quota
        if spec.rateLimit is not None:
            backend.rate_limiter.configure(spec.rateLimit.rate, spec.rateLimit.burst)
        return _success(_settings(backend))


def _settings(backend: Backend) -> dict[str, object]:
    limiter = backend.rate_limiter
    return {"quota": backend.quota, "rateLimit": {"rate": limiter.rate, "burst": limiter.burst}}


# OpenAPI


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(create_request_json_schemas("#/components/schemas/{model}"))
    components["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
    schema["security"] = [{"bearerAuth": []}]
    request_id = {"description": "echoed or generated request id", "schema": {"type": "string"}}
    retry_after = {"description": "seconds to wait", "schema": {"type": "string"}}
    for operations in schema["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                headers[REQUEST_ID_HEADER] = request_id
                if status == "429":
                    headers["Retry-After"] = {**retry_after, "required": True}
    app.openapi_schema = schema
    return schema
