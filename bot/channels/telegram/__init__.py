"""The Telegram channel, on python-telegram-bot 22.

``application`` receives (polling or webhook) and answers through the core; ``sender`` is the
outbox's port; ``translate`` maps updates and replies; ``reply_bot`` is PTB's bot without the
decoding of echoed messages. Importing this package loads none of them (the name is enough for
settings and storage keys).
"""

CHANNEL = "telegram"
