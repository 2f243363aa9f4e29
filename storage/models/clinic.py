"""Clinic set-up: the clinic, practitioners, appointment types, working sessions and date overrides."""
