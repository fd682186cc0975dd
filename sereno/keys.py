"""Typed keys of the aiohttp application."""

from __future__ import annotations

from aiohttp import web

from sereno.pipeline import Pipeline

PIPELINE = web.AppKey("pipeline", Pipeline)
