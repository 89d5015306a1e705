"""Answers to people are paced per chat, not overall: Telegram's "about 30 messages a second" is
for bulk notices (the outbox paces those), and a 429 holds only the chat it was about."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.channels.answered import NETWORK_RETRIES
from bot.channels.telegram.transport import ConnectionCut

FORGET_AFTER = 60.0  # seconds: a chat quiet for this long is forgotten (its bucket is full again)
LONGEST_WAIT = 30.0  # seconds of a 429's retry_after still waited out here; longer ones raise


@dataclass
class _Bucket:
    tokens: float
    updated: float
    held_until: float = 0.0


class ChatPacer(BaseRateLimiter[int]):
    """A short burst per chat, then about ``per_second`` messages a second to it; a flood
    refusal (429) holds that chat for its ``retry_after`` and the call is tried again, up to
    ``max_retries`` times (the per-call ``rate_limit_args`` may say otherwise); a call whose
    connection was cut before Telegram answered is tried again after each of
    ``NETWORK_RETRIES``, unless the channel is stopping."""

    def __init__(
        self,
        *,
        per_second: float = 1.0,
        burst: int = 3,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self.max_retries = max_retries
        self.clock = clock
        self.sleep = sleep
        self._chats: dict[object, _Bucket] = {}
        self.stopping = False  # set at stop: a cut call fails at once, kept for the next start
        self._swept = clock()

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Waits for the chat's turn, calls, and on a 429 holds the chat and calls again."""
        chat = _chat_of(data)
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        attempt = 0
        cuts = iter(NETWORK_RETRIES)
        while True:
            if chat is not None:
                await self._turn(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as flood:
                wait = _seconds(flood.retry_after)
                if chat is None or attempt >= retries or wait > LONGEST_WAIT:
                    raise  # a long flood hold is not slept through with the chat's turn held
                attempt += 1
                self._hold(chat, wait)
            except ConnectionCut:  # before Telegram answered: nothing can arrive twice
                pause = None if self.stopping else next(cuts, None)
                if pause is None:
                    raise
                await self.sleep(pause)

    async def _turn(self, chat: object) -> None:
        """Takes one message from the chat's bucket, waiting while it is empty or held."""
        while True:
            now = self.clock()
            self._sweep(now)
            bucket = self._chats.setdefault(chat, _Bucket(float(self.burst), now))
            bucket.tokens = min(
                float(self.burst), bucket.tokens + (now - bucket.updated) * self.per_second
            )
            bucket.updated = now
            if now < bucket.held_until:
                await self.sleep(bucket.held_until - now)
            elif bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return
            else:
                await self.sleep((1.0 - bucket.tokens) / self.per_second)

    def _hold(self, chat: object, seconds: float) -> None:
        """Telegram asked to wait: nothing more goes to this chat before then."""
        now = self.clock()
        bucket = self._chats.setdefault(chat, _Bucket(0.0, now))
        bucket.held_until = max(bucket.held_until, now + seconds)

    def _sweep(self, now: float) -> None:
        """Forgets chats quiet for a while, so memory follows the chats active now."""
        if now - self._swept < FORGET_AFTER:
            return
        self._swept = now
        quiet = [
            chat
            for chat, bucket in self._chats.items()
            if now - bucket.updated > FORGET_AFTER and now >= bucket.held_until
        ]
        for chat in quiet:
            del self._chats[chat]


def _seconds(retry_after: timedelta | float) -> float:
    """PTB gives retry_after as a timedelta (PTB_TIMEDELTA) or as seconds."""
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


def _chat_of(data: dict[str, Any]) -> str | None:
    """The chat a call is about, one key whether PTB was given an int or a string; a chat's
    command menu names it inside its scope."""
    chat = data.get("chat_id")
    scope = data.get("scope")
    if chat is None and scope is not None:
        chat = scope.get("chat_id") if isinstance(scope, dict) else getattr(scope, "chat_id", None)
    return None if chat is None else str(chat)
