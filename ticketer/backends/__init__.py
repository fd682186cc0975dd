"""Ticket backends: where tickets live. The builtin backend keeps them in Sereno's store."""
