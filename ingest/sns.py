"""Amazon SNS subscription handshake, confirmed only for topics the operator allowed.

SNS asks a new HTTP subscriber to prove it wants the messages by fetching SubscribeURL.
Following that URL blindly would let anyone make Sereno fetch a URL of their choosing, so
the adapter accepts only SNS's own endpoint for the topic's region, and Sereno fetches it
only for topics listed in `ingest.sources.cloudwatch.sns_confirm_topics`.
"""

from __future__ import annotations

import logging
from typing import Protocol

import aiohttp

from core.errors import Retry
from ingest.adapters.cloudwatch import SubscriptionRequest

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT_S = 10.0


class Confirmer(Protocol):
    async def confirm(self, request: SubscriptionRequest) -> None:
        """Fetch the request's SubscribeURL; raise Retry when SNS cannot be reached."""
        ...


class HttpConfirmer:
    """Confirms by GET on the SubscribeURL, as the SNS documentation describes."""

    async def confirm(self, request: SubscriptionRequest) -> None:
        timeout = aiohttp.ClientTimeout(total=CONFIRM_TIMEOUT_S)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(request.subscribe_url, allow_redirects=False) as response,
            ):
                if response.status != 200:
                    raise Retry(f"SNS answered {response.status} to the confirmation", defer=30)
        except (aiohttp.ClientError, TimeoutError) as e:
            raise Retry(f"cannot reach SNS to confirm {request.topic_arn}: {e}", defer=30) from e
        log.info("confirmed SNS subscription to %s", request.topic_arn)
