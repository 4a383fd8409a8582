"""The JSON envelopes every route answers with, and request-body decoding for the routes."""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.responses import JSONResponse

from .errors import ApiError, FieldIssue, ValidationFailed
from .models import decode_json


def success(
    data: object, *, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"success": True, "data": data}, status_code=status, headers=headers)


def error_response(error: ApiError) -> JSONResponse:
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(error.envelope(), status_code=error.status, headers=headers)


async def json_body(request: Request) -> object:
    """An admin request's body; any text in it, at any depth, may be kept and echoed later."""
    body = decode_json(await request.body())
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        raise ValidationFailed(
            "request body holds text that is not valid Unicode, or nests too deeply",
            [FieldIssue("body", "must be UTF-8 text (no lone surrogate) nested a few levels")],
        ) from None
    return body
