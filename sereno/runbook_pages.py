"""GET /runbooks/{name}: a runbook as a page a person reads on a phone at 03:00."""

from __future__ import annotations

from aiohttp import web
from jinja2 import Environment, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup

from sereno.keys import PIPELINE

# Runbooks are written by operators, but raw HTML in them stays text: a page shown to
# everyone must not run whatever a file happens to contain.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_PAGE = Environment(autoescape=True, undefined=StrictUndefined).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · Sereno runbook</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d2430; }
.meta { color: #5b6576; font-size: .9rem; }
code { background: #f1f3f6; padding: .1rem .3rem; border-radius: 3px; }
ol li { margin: .3rem 0; }
</style></head>
<body>
<p class="meta">Runbook <strong>{{ name }}</strong> · owned by {{ owner }}
 · applies to {{ applies }}</p>
{{ body }}
</body></html>
"""
)


def _words(value: object) -> str:
    """A matcher's value as a person writes it: `HostDown, InstanceDown`, not a Python list."""
    if isinstance(value, list | tuple | set):
        return ", ".join(_words(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_words(v)}" for k, v in value.items())
    return str(value)


async def runbook_page(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    runbooks = request.app[PIPELINE].rules.runbooks
    runbook = runbooks.get(name) if runbooks is not None else None
    if runbook is None:
        raise web.HTTPNotFound(reason=f"no runbook {name}")
    applies = runbook.applies_to.model_dump(mode="json", exclude_defaults=True)
    html = _PAGE.render(
        title=runbook.title,
        name=runbook.name,
        owner=runbook.owner,
        applies="; ".join(f"{k}: {_words(v)}" for k, v in applies.items()),
        body=Markup(_MARKDOWN.render(runbook.body)),  # noqa: S704 - markdown-it escapes text and refuses raw HTML
    )
    return web.Response(text=html, content_type="text/html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/runbooks/{name}", runbook_page)
