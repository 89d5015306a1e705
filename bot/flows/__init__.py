"""Conversation flows, one module each; each exposes ``flow``, composed in bot.compose."""
