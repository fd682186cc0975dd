"""The access log in the Combined Log Format (Apache's and nginx's default), with the
principal's name as the user, for the tools that already read those logs."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from sereno.auth.principal import PRINCIPAL_KEY


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def combined_line(request: web.BaseRequest, response: web.StreamResponse, at: datetime) -> str:
    """One request as `host - user [time] "request" status bytes "referer" "agent"`."""
    principal = request.get(PRINCIPAL_KEY) if isinstance(request, web.Request) else None
    user = principal.name if principal is not None and principal.authenticated else "-"
    line = (
        f"{request.method} {request.path_qs} HTTP/{request.version.major}.{request.version.minor}"
    )
    size = response.body_length or "-"
    return (
        f"{request.remote or '-'} - {user} [{at.strftime('%d/%b/%Y:%H:%M:%S %z')}] "
        f'"{_quoted(line)}" {response.status} {size} '
        f'"{_quoted(request.headers.get("Referer", "-"))}" '
        f'"{_quoted(request.headers.get("User-Agent", "-"))}"'
    )


class CombinedAccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        del time  # the line gives the moment the answer left, as servers do
        self.logger.info(combined_line(request, response, datetime.now(UTC)))
