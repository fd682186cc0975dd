"""Who is asking, and what they may do: users, roles, tokens, sessions, the audit log."""
