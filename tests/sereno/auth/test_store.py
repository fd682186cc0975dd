"""Both auth stores keep one contract: on the test's SQLite file and on the real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.config import Settings
from sereno.auth.principal import Role
from sereno.auth.records import ApiToken, AuditEntry, Session, User
from sereno.auth.service import open_auth_store
from sereno.auth.store import AuthStore
from tests.conftest import T0


@pytest.fixture
async def store(storage_settings: Settings) -> AsyncIterator[AuthStore]:
    opened = open_auth_store(storage_settings)
    yield opened
    await opened.close()


async def test_users_are_added_once_and_changed_in_place(store: AuthStore) -> None:
    assert not await store.has_users()
    ana = User(name="ana", role=Role.OPERATOR, groups={"redes": Role.ADMIN}, created_at=T0)
    assert await store.add_user(ana)
    assert not await store.add_user(ana.model_copy(update={"role": Role.ADMIN}))
    assert await store.has_users()
    assert await store.get_user("ana") == ana
    await store.put_user(ana.model_copy(update={"disabled": True}))
    changed = await store.get_user("ana")
    assert changed is not None
    assert changed.disabled
    await store.add_user(User(name="luis", role=Role.VIEWER, created_at=T0))
    assert [u.name for u in await store.list_users()] == ["ana", "luis"]
    assert await store.get_user("nobody") is None


async def test_tokens_are_found_by_digest_only(store: AuthStore) -> None:
    token = ApiToken(id="tok_1", name="rt", owner="ana", role=Role.OPERATOR, digest="ab" * 32,
                     created_at=T0, expires_at=T0 + timedelta(days=1))  # fmt: skip
    await store.add_token(token)
    assert await store.find_token("ab" * 32) == token
    assert await store.find_token("cd" * 32) is None
    revoked = token.model_copy(update={"revoked_at": T0})
    await store.put_token(revoked)
    assert await store.get_token("tok_1") == revoked
    assert await store.list_tokens() == [revoked]


async def test_sessions_end_when_they_expire_or_are_deleted(store: AuthStore) -> None:
    session = Session(digest="ef" * 32, name="ana", kind="user", role=Role.OPERATOR,
                      csrf="c", created_at=T0, expires_at=T0 + timedelta(hours=1))  # fmt: skip
    await store.add_session(session)
    assert await store.get_session("ef" * 32, T0) == session
    assert await store.get_session("ef" * 32, T0 + timedelta(hours=1)) is None
    await store.delete_session("ef" * 32)
    assert await store.get_session("ef" * 32, T0) is None


async def test_the_audit_log_lists_newest_first(store: AuthStore) -> None:
    for n in range(3):
        await store.append_audit(AuditEntry(
            at=T0 + timedelta(seconds=n), actor=f"user{n}", actor_kind="user",
            action="silence.create", outcome="allowed", status=201,
        ))  # fmt: skip
    assert [e.actor for e in await store.list_audit(2)] == ["user2", "user1"]
    assert len(await store.list_audit(100)) == 3
