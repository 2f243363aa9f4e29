"""Shared kernel of sealbook: errors, clock, settings, logging and the operator command."""
