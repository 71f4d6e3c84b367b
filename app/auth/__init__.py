"""Users, tokens, sessions, roles, permission checks and the audit log."""
