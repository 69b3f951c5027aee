"""What the emulators' HTTP apps share: one error body, `{"errorMessage": ...}`, for their own
refusals, unknown routes and unreadable requests."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException  # what FastAPI raises for unknown routes


def json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"errorMessage": message})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return json_error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'][1:]) or 'запрос'}: {error['msg']}"
            for error in exc.errors()
        )
        return json_error(400, f"Неверный запрос: {problems}")
