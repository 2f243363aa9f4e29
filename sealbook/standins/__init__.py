"""Loopback stand-ins of the remote APIs sealbook talks to (Telegram Bot API, Twilio REST).

They serve tests, benchmarks and the simulated clinic day on 127.0.0.1 only, record every
call, and fail on request the way the real services do.
"""
