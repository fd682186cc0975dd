"""The auth store in the pipeline's Redis, under its prefix (so in its Cluster slot).

Keys: PREFIX:auth:users (hash name -> user), PREFIX:auth:tokens (hash id -> token),
PREFIX:auth:token-digests (hash digest -> id), PREFIX:auth:session:DIGEST (expiring
string), PREFIX:auth:audit (a stream, only ever added to).
"""

from __future__ import annotations

from datetime import datetime

import redis.asyncio as aioredis

from core.redisdb import text, unavailable
from sereno.auth.records import ApiToken, AuditEntry, Session, User


class RedisAuthStore:
    """A client of its own on the pipeline's Redis; it connects on first use."""

    def __init__(self, url: str, prefix: str) -> None:
        self._client: aioredis.Redis = aioredis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=1.0, socket_timeout=5.0
        )
        self._users = f"{prefix}:auth:users"
        self._tokens = f"{prefix}:auth:tokens"
        self._digests = f"{prefix}:auth:token-digests"
        self._sessions = f"{prefix}:auth:session:"
        self._audit = f"{prefix}:auth:audit"

    async def add_user(self, user: User) -> bool:
        with unavailable():
            return bool(await self._client.hsetnx(self._users, user.name, user.model_dump_json()))

    async def put_user(self, user: User) -> None:
        with unavailable():
            await self._client.hset(self._users, user.name, user.model_dump_json())

    async def get_user(self, name: str) -> User | None:
        with unavailable():
            body = await self._client.hget(self._users, name)
        return None if body is None else User.model_validate_json(text(body))

    async def list_users(self) -> list[User]:
        with unavailable():
            bodies = await self._client.hvals(self._users)
        return sorted((User.model_validate_json(text(b)) for b in bodies), key=lambda u: u.name)

    async def has_users(self) -> bool:
        with unavailable():
            return bool(await self._client.exists(self._users))

    async def add_token(self, token: ApiToken) -> None:
        with unavailable():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hset(self._tokens, token.id, token.model_dump_json())
                pipe.hset(self._digests, token.digest, token.id)
                await pipe.execute()

    async def put_token(self, token: ApiToken) -> None:
        with unavailable():
            await self._client.hset(self._tokens, token.id, token.model_dump_json())

    async def get_token(self, token_id: str) -> ApiToken | None:
        with unavailable():
            body = await self._client.hget(self._tokens, token_id)
        return None if body is None else ApiToken.model_validate_json(text(body))

    async def find_token(self, digest: str) -> ApiToken | None:
        with unavailable():
            token_id = await self._client.hget(self._digests, digest)
        return None if token_id is None else await self.get_token(text(token_id))

    async def list_tokens(self) -> list[ApiToken]:
        with unavailable():
            bodies = await self._client.hvals(self._tokens)
        return sorted((ApiToken.model_validate_json(text(b)) for b in bodies), key=lambda t: t.id)

    async def add_session(self, session: Session) -> None:
        ttl_ms = int((session.expires_at - session.created_at).total_seconds() * 1000)
        with unavailable():
            await self._client.set(
                self._sessions + session.digest, session.model_dump_json(), px=max(ttl_ms, 1)
            )

    async def get_session(self, digest: str, now: datetime) -> Session | None:
        with unavailable():
            body = await self._client.get(self._sessions + digest)
        if body is None:
            return None
        session = Session.model_validate_json(text(body))
        return session if now < session.expires_at else None

    async def delete_session(self, digest: str) -> None:
        with unavailable():
            await self._client.delete(self._sessions + digest)

    async def append_audit(self, entry: AuditEntry) -> None:
        with unavailable():
            await self._client.xadd(self._audit, {"entry": entry.model_dump_json()})

    async def list_audit(self, limit: int) -> list[AuditEntry]:
        with unavailable():
            rows = await self._client.xrevrange(self._audit, count=limit)
        return [
            AuditEntry.model_validate_json(text(fields["entry"]))
            for _, fields in rows or []
            if fields is not None
        ]

    async def close(self) -> None:
        await self._client.aclose()
