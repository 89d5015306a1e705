"""PTB's ExtBot, with reply calls that do not decode the message Telegram echoes back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from telegram import Update
from telegram.error import NetworkError
from telegram.ext import ExtBot
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.telegram.ordering import is_update
from bot.channels.telegram.pacing import ChatPacer
from bot.channels.telegram.transport import AiohttpRequest
from bot.settings import Settings

POLL_READ_MARGIN = 5.0  # seconds of reading allowed beyond a long poll's own timeout


class ReplyBot(ExtBot[int]):  # int: ChatPacer's per-call retries (rate_limit_args)
    """Sends replies through PTB's request, rate limiter and errors, without reading the echo.

    ``send_message`` turns Telegram's echo of every sent message into a ``Message`` object; we
    never read it, and building it costs about as much as the rest of an answered update. Even
    decoding its JSON, and PTB's layers before the request, were a tenth of the CPU under a
    surge: these calls go from the chat's pacer straight to the request, whose failures are
    still PTB's errors (``RetryAfter``, ``Forbidden``…).
    """

    connections: tuple[BaseRequest, ...] = ()  # closed by ``close_connections``

    async def close_connections(self) -> None:
        """Closes the HTTP pools even when ``initialize`` failed halfway (a refused token):
        PTB's ``shutdown`` skips a bot that never finished initializing."""
        for request in self.connections:
            await request.shutdown()

    async def get_update_payloads(self, offset: int | None, timeout: int) -> list[dict[str, Any]]:
        """getUpdates (long polling ``timeout`` seconds), the updates as Telegram sent them:
        they are stored so, and read without PTB's objects."""
        data = {"offset": offset, "timeout": timeout, "allowed_updates": Update.ALL_TYPES}
        updates = await self._post("getUpdates", data, read_timeout=POLL_READ_MARGIN + timeout)
        if not isinstance(updates, list) or not all(is_update(u) for u in updates):
            raise NetworkError(f"getUpdates answered something else than updates: {updates!r:.200}")
        return updates

    async def send_text(
        self, chat_id: int | str, text: str, reply_markup: dict[str, object] | None = None
    ) -> None:
        """sendMessage, the answer discarded."""
        await self._discarding(
            "sendMessage", {"chat_id": chat_id, "text": text, "reply_markup": reply_markup}
        )

    async def answer_press(self, query_id: str) -> None:
        """answerCallbackQuery: the button's spinner stops."""
        await self._discarding("answerCallbackQuery", {"callback_query_id": query_id})

    async def edit_text(self, chat_id: int | str, message_id: int, text: str) -> None:
        """editMessageText (its buttons removed), the answer discarded."""
        await self._discarding(
            "editMessageText", {"chat_id": chat_id, "message_id": message_id, "text": text}
        )

    async def set_chat_commands(
        self,
        chat_id: int,
        commands: Sequence[Mapping[str, str]],
        language_code: str | None = None,
    ) -> None:
        """setMyCommands for one chat, with commands already in the Bot API's JSON shape."""
        scope = {"type": "chat", "chat_id": chat_id}
        data: dict[str, object] = {
            "commands": commands,
            "scope": scope,
            "language_code": language_code,
        }
        await self._discarding("setMyCommands", data)

    async def _discarding(self, endpoint: str, data: dict[str, object]) -> None:
        """One call in the chat's turn (the pacer's retries on a 429 included); a failure raises
        PTB's error, a success is not decoded. None values are left out, as PTB does."""
        request = self.request  # the answers' pool
        parameters = [RequestParameter(k, v, None) for k, v in data.items() if v is not None]
        url = f"{self.base_url}/{endpoint}"

        async def call() -> bool:
            # PTB's own status-to-error mapping, without decoding the success's body.
            await request._request_wrapper(url, "POST", RequestData(parameters))
            return True

        if self.rate_limiter is None:
            await call()
            return
        await self.rate_limiter.process_request(
            callback=call, args=(), kwargs={}, endpoint=endpoint, data=data,
            rate_limit_args=None,
        )  # fmt: skip


def reply_bot(
    settings: Settings, *, request: BaseRequest | None = None, rate_limited: bool = True
) -> ReplyBot:
    """The bot with connection pools of 256 (answers) and 1 (getUpdates) over aiohttp, its
    answers paced per chat (``ChatPacer``) rather than overall."""
    assert settings.telegram_token is not None
    answers, updates = request or AiohttpRequest(256), request or AiohttpRequest(1)
    bot = ReplyBot(
        token=settings.telegram_token.get_secret_value(),
        base_url=settings.telegram_api_url,
        base_file_url=settings.telegram_file_url,
        request=answers,
        get_updates_request=updates,
        rate_limiter=ChatPacer() if rate_limited else None,
    )
    object.__setattr__(bot, "connections", (answers, updates))  # PTB freezes its objects
    return bot
