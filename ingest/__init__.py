"""Ingest: HTTP receivers that turn every source's payload into canonical alerts on the bus."""
