"""The HTTP layer: the API's routes, request ids, injected faults, the request log, OpenAPI.

Each route decodes its request, calls one `Backend` method in a worker thread (SQLite calls block)
and encodes the result; every rule lives in the backend. `EdgeMiddleware` runs around all routes:
it echoes or generates `X-Request-Id`, applies injected faults, refuses bodies over
`MAX_BODY_BYTES` (413, before they are read when `Content-Length` announces them, else as soon as
the limit is passed), and records the request log.
Admin routes (`admin.py`) are added only when an admin token is configured.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .admin import add_admin_routes
from .backend import Backend, Caller
from .envelopes import error_response, success
from .errors import (
    MAX_BODY_BYTES,
    ApiError,
    FieldIssue,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from .faults import REPEAT_CURSOR
from .models import (
    SOURCE_ID_PATTERN,
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
)
from .state import EmulatorState as EmulatorState  # re-exported: `create_app` takes one

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("sigsentry_emulator")

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
_UNLOGGED_PREFIXES = ("/_admin", "/healthz")
_SOURCE_PATH = "/v1/config/log-sources"


def create_app(state: EmulatorState) -> FastAPI:
    app = FastAPI(
        title="SigSentry log-source API (local emulator)",
        version="1",
        description="The SigSentry log-source configuration API, emulated locally.",
        docs_url=None,
        redoc_url=None,
        # The API has no trailing-slash paths: `/v1/config/log-sources/` is an unknown path (404
        # in the error envelope), not a redirect that a client would follow with its key.
        redirect_slashes=False,
    )
    app.state.emulator = state
    _add_error_handlers(app)
    _add_api_routes(app, state)
    if state.admin_token:
        add_admin_routes(app, state)
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
        scope = _without_repeat_cursor(scope)
        seen: dict[str, Any] = {"status": None, "replayed": False, "started": False, "taken": None}
        answer_id = request_id.encode()  # the echo fault answers with another

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                # `Date` is the moment the request was taken up (after any injected delay), by
                # the clock that stamps `createdAt`, so a record the request made is never older
                # than its answer, and a replayed one is as old as it is. uvicorn's own is
                # refreshed by its main loop, which a busy machine holds back by seconds; and
                # clients compare the two.
                stamp = seen["taken"] or time.time()
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", email.utils.formatdate(stamp, usegmt=True).encode()))
                headers.append((b"x-request-id", answer_id))
                message["headers"] = headers
                seen["status"] = message["status"]
                seen["started"] = True
                seen["replayed"] = seen["replayed"] or (b"idempotent-replayed", b"true") in headers
            await send(message)

        async def swallow(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]

        async def send_unmarked(message: Message) -> None:
            # the `noReplayHeader` fault: the request log still says whether it was a replay
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                kept = [(k, v) for k, v in headers if k.lower() != b"idempotent-replayed"]
                seen["replayed"] = len(kept) != len(headers)
                message["headers"] = kept
            await send_with_id(message)

        try:
            kind = None if fault is None else fault.kind
            if fault is None or kind in ("slow", "trickle", "repeatCursor", "noReplayHeader"):
                if fault is not None and kind == "slow":
                    await asyncio.sleep(fault.delay_seconds)
                seen["taken"] = time.time()
                send_answer = send_unmarked if kind == "noReplayHeader" else send_with_id
                declared = _content_length(scope)
                if declared is not None and declared > MAX_BODY_BYTES:
                    # answered unread; uvicorn discards the rest of the upload as it arrives
                    await error_response(_too_large())(scope, receive, send_answer)
                else:
                    answer: Send = send_answer
                    if fault is not None and kind == "trickle":
                        answer = _trickled(send_with_id, receive, fault.delay_seconds)
                    elif fault is not None and kind == "repeatCursor":
                        answer = _with_repeat_cursor(send_with_id)
                    await self.app(scope, _limited(receive), answer)
            elif kind == "empty":
                page = {"success": True, "data": [], "nextCursor": None}
                await JSONResponse(page)(scope, receive, send_with_id)
            elif fault.kind == "drop":
                await self.app(scope, _limited(receive), swallow)
                await self._drop(scope)
            elif fault.kind == "echo":
                error, answer_id = _echo(scope, await _read_body(_limited(receive)))
                await error_response(error)(scope, receive, send_with_id)
            else:
                error = _fault_error(fault.kind, fault.retry_after)
                await error_response(error)(scope, receive, send_with_id)
        except _ClientGone:
            pass  # a trickled answer whose client stopped reading: nobody to answer
        except Exception:
            # answered here rather than by Starlette's outer handler so the 500 keeps its
            # X-Request-Id; the traceback goes to the server log, never to the client
            logger.exception("unhandled error answering %s %s", scope["method"], path)
            if not seen["started"]:
                await error_response(InternalError("internal error"))(scope, receive, send_with_id)
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


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1")
            # h11 has already refused a malformed length; a huge one is still only digits
            return int(text) if text.isascii() and text.isdigit() else None
    return None


def _limited(receive: Receive) -> Receive:
    """`receive` that raises 413 once the body passes `MAX_BODY_BYTES` (chunked uploads)."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise _too_large()
        return message

    return limited


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"request body is larger than {MAX_BODY_BYTES} bytes; "
        "no valid log-source request comes near that size"
    )


class _ClientGone(Exception):
    """The client closed the connection while a trickled answer was being sent."""


def _trickled(send: Send, receive: Receive, delay: float) -> Send:
    """`send`, with each body sent one byte every `delay` seconds (the `trickle` fault).

    The headers go at once. The trickle stops when the client disconnects, so a client that
    gave up leaves no answer running on in the server.
    """
    gone = asyncio.Event()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass  # the rest of an unread request body
        gone.set()

    async def trickle(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        watcher = asyncio.create_task(watch())
        try:
            for byte in message.get("body", b""):
                try:
                    await asyncio.wait_for(gone.wait(), delay)
                except TimeoutError:
                    await send(
                        {"type": "http.response.body", "body": bytes([byte]), "more_body": True}
                    )
                else:
                    raise _ClientGone
            await send(
                {
                    "type": "http.response.body",
                    "body": b"",
                    "more_body": message.get("more_body", False),
                }
            )
        finally:
            watcher.cancel()

    return trickle


def _without_repeat_cursor(scope: Scope) -> Scope:
    """The request with `REPEAT_CURSOR` taken out of its query: it leads to the first page."""
    query = scope.get("query_string", b"").decode("latin-1")
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not (k == "cursor" and v == REPEAT_CURSOR)]
    if len(kept) == len(pairs):
        return scope
    return {**scope, "query_string": urlencode(kept).encode("latin-1")}


def _with_repeat_cursor(send: Send) -> Send:
    """`send`, with a list page's `nextCursor` made `REPEAT_CURSOR` (the `repeatCursor` fault)."""
    held: list[Message] = []

    async def rewrite(message: Message) -> None:
        held.append(message)
        if message["type"] != "http.response.body" or message.get("more_body", False):
            return
        start, *bodies = held
        body = b"".join(m.get("body", b"") for m in bodies)
        page = json.loads(body) if start["status"] == 200 else None
        if isinstance(page, dict) and "nextCursor" in page:
            body = json.dumps({**page, "nextCursor": REPEAT_CURSOR}).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            start = {**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return rewrite


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return b"".join(chunks)


def _echo(scope: Scope, body: bytes) -> tuple[ApiError, bytes]:
    """The `echo` fault's error, and the X-Request-Id it answers with: the request, echoed.

    The request's `Authorization` header and body, as they came, then JSON-escaped, base64
    (after 0, 1 and 2 bytes, so every value starts at each alignment; standard and URL-safe)
    and URL-encoded; the request id is the `Authorization` header itself.
    """
    authorization = b""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            authorization = value
    raw = authorization + b"\n" + body
    text = raw.decode("utf-8", "replace")
    echoes = {"json": json.dumps(text), "url": quote(text, safe=""), "url+": quote_plus(text)}
    for lead in range(3):
        padded = b" " * lead + raw
        echoes[f"base64/{lead}"] = base64.b64encode(padded).decode()
        echoes[f"base64url/{lead}"] = base64.urlsafe_b64encode(padded).decode()
    error = ValidationFailed(
        f"request rejected (injected fault), echoed: {text}",
        [FieldIssue(f"echo.{form}", echoed) for form, echoed in echoes.items()],
    )
    return error, authorization or b"req_echo"


def _fault_error(kind: str, retry_after: int) -> ApiError:
    if kind == "429":
        return RateLimited("too many requests (injected fault)", retry_after=retry_after)
    if kind == "503":
        return ServiceUnavailable("service unavailable (injected fault)", retry_after=retry_after)
    return InternalError("internal error (injected fault)")


# errors


def _add_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            response = error_response(MethodNotAllowed("method not allowed here"))
            response.headers.update(exc.headers or {})  # Allow
            return response
        if exc.status_code == 404:
            return error_response(NotFound("no such endpoint"))
        return error_response(InternalError(str(exc.detail)))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


# the API


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": text}
    for status, text in {
        400: "VALIDATION_ERROR",
        401: "UNAUTHORIZED",
        403: "FORBIDDEN or QUOTA_EXCEEDED",
        404: "NOT_FOUND",
        413: f"PAYLOAD_TOO_LARGE (a body over {MAX_BODY_BYTES} bytes)",
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
    "schema": {"type": "string", "pattern": SOURCE_ID_PATTERN},
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
        return success(result.record, status=result.status, headers=headers)

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
        return success({"updated": True})

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
        return success({"deleted": True})

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
        return success(result)


async def _caller(request: Request, backend: Backend) -> Caller:
    header = request.headers.get("Authorization")
    token = None
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("malformed Authorization header: send Authorization: Bearer <key>")
        token = token.strip()
    return await run_in_threadpool(backend.authenticate, token, request.headers.get("X-Project-Id"))


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
