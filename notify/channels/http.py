"""One JSON POST to an incoming webhook, its answer classified for retries."""

from __future__ import annotations

import aiohttp

from core.models import JsonDict
from notify.channels import DeliveryError

_RETRYABLE_4XX = {408, 425, 429}


async def post_json(
    session: aiohttp.ClientSession, url: str, payload: JsonDict, headers: dict[str, str]
) -> str:
    """POST `payload` to `url`; 'HTTP <status>' when it is taken, DeliveryError otherwise
    (retryable for 5xx, timeouts and connection errors; final for other 4xx)."""
    try:
        async with session.post(url, json=payload, headers=headers) as response:
            body = (await response.text())[:200]
    except (aiohttp.ClientError, TimeoutError) as e:
        raise DeliveryError(f"{type(e).__name__}: {e}") from e
    detail = f"HTTP {response.status}" + (f": {body}" if response.status >= 400 and body else "")
    if response.status >= 400:
        retryable = response.status >= 500 or response.status in _RETRYABLE_4XX
        raise DeliveryError(detail, retryable=retryable)
    return detail
