"""The plug-in booking core: clinics, availability, slot search, references and bookings."""
