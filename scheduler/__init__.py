"""Reminder planning and dispatch; knows the database, never the chat channel."""
