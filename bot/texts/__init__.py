"""What the bot says outside one step: problems, deadlines, progress, registry lines, charts, and
the outbox's reminders, digests and notices."""
