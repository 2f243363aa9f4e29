"""Bookings and the time cells that make a double booking impossible."""
