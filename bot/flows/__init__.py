"""Conversation flows; importing this package registers their steps and commands."""

from bot.flows import (  # noqa: F401  (registers the steps and commands)
    admin,
    board,
    broadcast,
    menu,
    onboarding,
    registration,
    registry_chat,
    report,
    review,
)
