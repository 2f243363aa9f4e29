"""Migration scripts, one linear chain with readable revision ids."""
