"""The staff command line: works by booking reference and never sees a contact detail."""
