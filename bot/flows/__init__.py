"""Conversation flows; importing this package registers their steps and commands."""

from bot.flows import board, menu, onboarding, registration, registry_chat, report  # noqa: F401
