"""The scheduler's send port on Telegram: raw Bot API calls over aiohttp, for bulk sending.

Conversations use python-telegram-bot; the outbox only ever calls sendMessage and sendPhoto,
and PTB's httpx transport tops out near 500 requests/s on a small machine, aiohttp near 5,000.
"""

from __future__ import annotations

import json
from types import TracebackType

import aiohttp

from bot.channels.telegram_io import CHANNEL, keyboard, split_text
from scheduler.dispatcher import Outcome, Outgoing, SendResult

CAPTION_LIMIT = 1024


class TelegramSender:
    """Sends outbox messages; use ``async with`` so its HTTP session lives in the running loop."""

    def __init__(self, token: str, *, base_url: str, connections: int = 16) -> None:
        self._token = token
        self._base = f"{base_url}{token}/"
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> TelegramSender:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Opens the connection pool (inside the event loop that will use it)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=aiohttp.ClientTimeout(total=30),
            )

    async def close(self) -> None:
        """Closes the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _clean(self, text: str) -> str:
        """Error texts are stored and logged: the token never is."""
        return text.replace(self._token, "[redacted]")[:300]

    async def __call__(self, channel: str, chat_id: str, message: Outgoing) -> SendResult:
        if channel != CHANNEL:
            return SendResult(Outcome.FAILED, error=f"no sender for channel {channel}")
        if self._session is None:
            await self.start()
        try:
            return await self._send(chat_id, message)
        except (TimeoutError, aiohttp.ClientError) as trouble:
            return SendResult(Outcome.RETRY, 0.0, self._clean(repr(trouble)))

    async def _send(self, chat: str, message: Outgoing) -> SendResult:
        chat_id: int | str = int(chat) if chat.lstrip("-").isdigit() else chat  # JSON as Telegram
        markup = keyboard(message.choices)
        if message.image is not None:
            caption = message.text if len(message.text) <= CAPTION_LIMIT else None
            if caption is None:
                for part in split_text(message.text):
                    result = await self._call("sendMessage", {"chat_id": chat_id, "text": part})
                    if result.outcome != Outcome.SENT:
                        return result
            form = aiohttp.FormData()
            form.add_field("chat_id", str(chat_id))
            if caption:
                form.add_field("caption", caption)
            if markup:
                form.add_field("reply_markup", json.dumps(markup, ensure_ascii=False))
            form.add_field(
                "photo",
                message.image.read_bytes(),
                filename=message.image.name,
                content_type="image/png",
            )
            return await self._call("sendPhoto", form)
        parts = split_text(message.text)
        if message.document is not None or message.document_id:
            for part in parts:
                result = await self._call("sendMessage", {"chat_id": chat_id, "text": part})
                if result.outcome != Outcome.SENT:
                    return result
            if message.document_id:
                return await self._call(
                    "sendDocument", {"chat_id": chat_id, "document": message.document_id}
                )
            assert message.document is not None
            if not message.document.is_file():
                return SendResult(Outcome.FAILED, error="the stored document is missing")
            form = aiohttp.FormData()
            form.add_field("chat_id", str(chat_id))
            form.add_field(
                "document", message.document.read_bytes(),
                filename=message.document_name or message.document.name,
            )  # fmt: skip
            return await self._call("sendDocument", form)
        for index, part in enumerate(parts):
            payload: dict[str, object] = {"chat_id": chat_id, "text": part}
            if markup and index == len(parts) - 1:
                payload["reply_markup"] = markup
            result = await self._call("sendMessage", payload)
            if result.outcome != Outcome.SENT:
                return result
        return SendResult(Outcome.SENT)

    async def _call(self, method: str, body: dict[str, object] | aiohttp.FormData) -> SendResult:
        """One Bot API call, its answer mapped to an outcome the dispatcher understands."""
        assert self._session is not None
        kwargs = {"data": body} if isinstance(body, aiohttp.FormData) else {"json": body}
        async with self._session.post(self._base + method, **kwargs) as response:
            try:
                answer = await response.json(content_type=None)
            except (json.JSONDecodeError, aiohttp.ContentTypeError):
                answer = {"ok": False, "description": f"HTTP {response.status}"}
        if answer.get("ok"):
            return SendResult(Outcome.SENT)
        code = int(answer.get("error_code") or response.status)
        description = self._clean(str(answer.get("description", "")))
        if code == 429:
            wait = float((answer.get("parameters") or {}).get("retry_after", 1))
            return SendResult(Outcome.RETRY, wait, description)
        if code == 403:
            return SendResult(Outcome.BLOCKED, error=description)
        if code >= 500:
            return SendResult(Outcome.RETRY, 0.0, description)
        return SendResult(Outcome.FAILED, error=description)
