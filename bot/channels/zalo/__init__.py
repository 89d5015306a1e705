"""The Zalo channel, on the Zalo Bot Platform's HTTP API called directly (aiohttp).

``api`` makes the calls; ``translate`` maps events to Incoming and replies to text;
``channel`` receives (long polling or the webhook) through the inbox and answers; ``sender``
is the outbox's port. Importing this package loads none of them.
"""

CHANNEL = "zalo"
MAX_TEXT = 2000  # characters a Zalo message may hold
