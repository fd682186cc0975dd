"""Notify: tells people about incidents, routed by rules, never one message per raw alert."""
