"""The dashboard page: plain HTML, CSS and JS from voice/http/static, no build step."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask.wrappers import Response

dashboard = Blueprint("dashboard", __name__)


@dashboard.get("/")
def index() -> Response:
    response = current_app.send_static_file("index.html")
    # The page is tiny and changes with the package; always revalidate it.
    response.headers["Cache-Control"] = "no-cache"
    return response
