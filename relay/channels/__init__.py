"""Channel senders: Telegram, SMS through Twilio, e-mail through SMTP, and the console."""
