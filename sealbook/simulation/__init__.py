"""The simulated clinic day behind ``sealbook simulate-day``."""
