"""Sharing: a goal and its whole live subtree shared with another user, as viewer or editor."""
