"""The notification relay: the one process that opens sealed contacts and delivers notices."""
