"""The JSON envelopes every route answers with, and request-body decoding for the routes."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from .errors import ApiError
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
    return decode_json(await request.body())
