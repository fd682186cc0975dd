"""The sign-in form's fields, checked before anything is looked up."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sereno.auth.records import NAME_PATTERN

_NAME = re.compile(NAME_PATTERN)
MAX_PASSWORD = 1024


class LoginFormError(ValueError):
    """The form cannot be a sign-in; `field` names the culprit."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class LoginForm:
    name: str
    password: str
    next: str


def safe_next(value: str) -> str:
    """`value` when it is a path on this site, else "/": a sign-in never sends anyone on
    to another site (an open redirect)."""
    if (
        not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(c in value for c in "\\\r\n\t")
        or not value.isprintable()
        or len(value) > 2048
    ):
        return "/"
    return value


def parse_login_form(form: Mapping[str, str]) -> LoginForm:
    """The sign-in form's name, password and where to go next; LoginFormError otherwise."""
    name = form.get("name", "").strip()
    password = form.get("password", "")
    if not _NAME.fullmatch(name):
        raise LoginFormError("name", "write your user name")
    if not password or len(password) > MAX_PASSWORD:
        raise LoginFormError("password", "write your password")
    return LoginForm(name=name, password=password, next=safe_next(form.get("next", "/")))
