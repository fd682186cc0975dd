"""The login form and Authorization header parsers, on any input hypothesis can think of:
they answer or refuse by name, never crash, and never send anyone off the site."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sereno.auth.login_form import LoginFormError, parse_login_form, safe_next
from sereno.auth.records import NAME_PATTERN
from sereno.auth.tokens import CredentialError, new_token, parse_bearer

TOKEN = re.compile(r"srn_[A-Za-z0-9_-]{43}")


@given(st.text(max_size=200))
def test_any_authorization_header_is_a_token_or_refused_by_name(header: str) -> None:
    problem = ""
    try:
        token = parse_bearer(header)
    except CredentialError as e:
        problem = str(e)
    if problem:
        assert "srn_" in problem or "Bearer" in problem
    else:
        assert TOKEN.fullmatch(token)


@given(st.sampled_from(["Bearer", "bearer", "BEARER"]), st.text(" ", max_size=3))
def test_a_real_token_parses_whatever_the_scheme_case(scheme: str, space: str) -> None:
    token = new_token()
    assert parse_bearer(f"{scheme} {space}{token}{space}") == token


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer srn_short", "Token srn_x"])
def test_other_schemes_and_shapes_are_refused(header: str) -> None:
    with pytest.raises(CredentialError):
        parse_bearer(header)


@given(st.dictionaries(st.sampled_from(["name", "password", "next", "other"]), st.text()))
def test_any_form_is_a_login_or_refused_naming_the_field(form: dict[str, str]) -> None:
    field = ""
    try:
        login = parse_login_form(form)
    except LoginFormError as e:
        field = e.field
    if field:
        assert field in ("name", "password")
    else:
        assert re.fullmatch(NAME_PATTERN, login.name)
        assert 0 < len(login.password) <= 1024
        assert login.next == safe_next(login.next)


@given(st.text())
def test_next_never_leaves_the_site(value: str) -> None:
    path = safe_next(value)
    assert path.startswith("/")
    assert not path.startswith(("//", "/\\"))
    assert "\\" not in path
    assert path.isprintable()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("/incidents/INC-1", "/incidents/INC-1"), ("//evil.example", "/"),
     ("https://evil.example", "/"), ("/\\evil.example", "/"), ("/ok?x=1", "/ok?x=1")],
)  # fmt: skip
def test_next_examples(value: str, expected: str) -> None:
    assert safe_next(value) == expected
