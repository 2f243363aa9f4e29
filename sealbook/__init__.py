"""Shared kernel of sealbook: errors, clock, settings, logging, GSM-7 text for SMS and the operator command."""
