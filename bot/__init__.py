"""Channel adapters: the webhook server for Telegram and SMS, and the console channel."""
