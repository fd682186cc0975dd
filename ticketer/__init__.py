"""Ticketer: incident events in, tickets out; one incident never gets two tickets."""
