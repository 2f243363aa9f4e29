"""Dialogue state of each contact's conversation."""
