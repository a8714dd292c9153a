"""Errors meant for the person at the keyboard: one clear line, a chosen exit code."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user (a file, an argument). Printed without a traceback."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
