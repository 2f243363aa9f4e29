"""Inbound messages recorded by their channel id, so a redelivered webhook is handled once."""
