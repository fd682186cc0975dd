"""Channels deliver a message. The log channel writes to Sereno's log and its record."""
