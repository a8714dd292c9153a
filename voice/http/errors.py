"""Every error as JSON with its status code: no HTML error pages, no tracebacks."""

from __future__ import annotations

from flask import Flask, current_app, json
from flask.wrappers import Response
from werkzeug.exceptions import HTTPException, InternalServerError


def error_body(code: int, error: str, message: str) -> dict[str, object]:
    return {"error": error, "status": code, "message": message}


def _error_name(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_")


def http_error(exc: HTTPException) -> Response:
    # get_response keeps what the exception carries (the Allow header of a 405,
    # WWW-Authenticate of a 401); only the body is swapped for JSON.
    response = exc.get_response()
    code = exc.code or 500
    body = error_body(code, _error_name(exc), exc.description or "")
    response.set_data(json.dumps(body))
    response.content_type = "application/json"
    return response  # type: ignore[return-value]


def unexpected_error(exc: Exception) -> Response:
    # Logged with its traceback for the operator; the client learns only that it failed.
    current_app.logger.error("unhandled error", exc_info=exc)
    return http_error(InternalServerError("The coach failed to answer; see the server log."))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
