"""The scheduler's send port on Telegram: one message, and what Telegram answered."""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from bot.channels.telegram_io import CHANNEL, split_text
from scheduler.dispatcher import Outcome, Outgoing, SendResult

CAPTION_LIMIT = 1024


def sender_bot(token: str, *, base_url: str, file_url: str, connections: int = 16) -> Bot:
    """A plain Bot for the outbox, with enough connections for the dispatcher's concurrency."""
    return Bot(
        token,
        base_url=base_url,
        base_file_url=file_url,
        request=HTTPXRequest(connection_pool_size=connections),
    )


class TelegramSender:
    """Sends outbox messages with a plain Bot: the dispatcher does the pacing itself."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def __call__(self, channel: str, chat_id: str, message: Outgoing) -> SendResult:
        if channel != CHANNEL:
            return SendResult(Outcome.FAILED, error=f"no sender for channel {channel}")
        try:
            await self._send(chat_id, message)
        except RetryAfter as flood:
            wait = flood.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            return SendResult(Outcome.RETRY, seconds, "flood limit")
        except Forbidden as blocked:
            return SendResult(Outcome.BLOCKED, error=str(blocked))
        except (TimedOut, NetworkError) as trouble:
            return SendResult(Outcome.RETRY, 0.0, repr(trouble))
        except TelegramError as refused:
            return SendResult(Outcome.FAILED, error=str(refused))
        return SendResult(Outcome.SENT)

    async def _send(self, chat_id: str, message: Outgoing) -> None:
        markup = (
            InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label[:64], callback_data=token[:64])]
                    for token, label in message.choices
                ]
            )
            if message.choices
            else None
        )
        parts = split_text(message.text)
        if message.image is not None:
            caption = message.text if len(message.text) <= CAPTION_LIMIT else None
            if caption is None:
                for part in parts:
                    await self.bot.send_message(chat_id=chat_id, text=part)
            with message.image.open("rb") as handle:
                await self.bot.send_photo(
                    chat_id=chat_id, photo=handle, caption=caption, reply_markup=markup
                )
            return
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await self.bot.send_message(
                chat_id=chat_id, text=part, reply_markup=markup if last else None
            )
