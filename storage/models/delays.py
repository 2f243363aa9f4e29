"""Running-late declarations and the delay projection of each practitioner's day."""
