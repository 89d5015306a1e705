"""The scheduler's send port on Telegram: raw Bot API calls over aiohttp, for bulk sending.

Conversations use python-telegram-bot; the outbox only ever calls sendMessage and sendPhoto,
and PTB's httpx transport tops out near 500 requests/s on a small machine, aiohttp near 5,000.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import TracebackType

import aiohttp
from yarl import URL

from bot.channels.telegram.translate import keyboard, split_text
from bot.channels.telegram.transport import env_proxy
from scheduler.dispatcher import Outcome, Outgoing, SendResult

CAPTION_LIMIT = 1024
CONTINUE_ATTEMPTS = 4  # a message already begun: tries of each later part before giving up
CONTINUE_WAIT = 30.0  # at most this many seconds between them, whatever Telegram asks
_Body = dict[str, object] | aiohttp.FormData
_Call = tuple[str, Callable[[], _Body]]


class TelegramSender:
    """Sends outbox messages; use ``async with`` so its HTTP session lives in the running loop."""

    def __init__(self, token: str, *, base_url: str, connections: int = 16) -> None:
        self._token = token
        self._base = f"{base_url}{token}/"
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        self._proxy: URL | None = None  # HTTPS_PROXY from the environment, read at start
        self._proxy_auth: aiohttp.BasicAuth | None = None

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
            self._proxy, self._proxy_auth = env_proxy(URL(self._base).origin())

    async def close(self) -> None:
        """Closes the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _clean(self, text: str) -> str:
        """Error texts are stored and logged: the token never is."""
        return text.replace(self._token, "[redacted]")[:300]

    async def __call__(self, chat_id: str, message: Outgoing) -> SendResult:
        """Sends one outbox message to a Telegram chat; network trouble is a retry."""
        if self._session is None:
            await self.start()
        try:
            return await self._send(chat_id, message)
        except (TimeoutError, aiohttp.ClientError) as trouble:
            return SendResult(Outcome.RETRY, 0.0, self._clean(repr(trouble)))

    async def _send(self, chat: str, message: Outgoing) -> SendResult:
        """Sends the message's calls in order; once the first went out, the rest are finished here.

        The dispatcher retries a message as a whole, which would send its first parts again:
        a later part refused for flooding waits and is retried in place instead.
        """
        calls = self._calls(int(chat) if chat.lstrip("-").isdigit() else chat, message)
        if isinstance(calls, SendResult):
            return calls
        for index, (method, body) in enumerate(calls):
            result = await (self._call(method, body()) if index == 0 else self._then(method, body))
            if result.outcome != Outcome.SENT:
                return result
        return SendResult(Outcome.SENT)

    def _calls(self, chat_id: int | str, message: Outgoing) -> list[_Call] | SendResult:
        """The Bot API calls that make up a message (text parts, then a photo or document)."""
        markup = keyboard(message.choices)

        def text(part: str, with_markup: bool = False) -> _Call:
            body: dict[str, object] = {"chat_id": chat_id, "text": part}
            if with_markup and markup:
                body["reply_markup"] = markup
            return "sendMessage", lambda: body

        if message.image is not None:
            image = message.image
            caption = message.text if len(message.text) <= CAPTION_LIMIT else None
            parts = [] if caption is not None else split_text(message.text)

            def photo() -> aiohttp.FormData:  # a form is sent once: one per attempt
                form = aiohttp.FormData(quote_fields=False)
                form.add_field("chat_id", str(chat_id))
                if caption:
                    form.add_field("caption", caption)
                if markup:
                    form.add_field("reply_markup", json.dumps(markup, ensure_ascii=False))
                form.add_field(
                    "photo", image.read_bytes(), filename=image.name, content_type="image/png"
                )
                return form

            return [*(text(part) for part in parts), ("sendPhoto", photo)]
        parts = split_text(message.text)
        if message.document_id:
            by_id: dict[str, object] = {"chat_id": chat_id, "document": message.document_id}
            return [*(text(part) for part in parts), ("sendDocument", lambda: by_id)]
        if message.document is not None:
            document, name = message.document, message.document_name or message.document.name
            if not document.is_file():
                return SendResult(Outcome.FAILED, error="the stored document is missing")

            def upload() -> aiohttp.FormData:
                form = aiohttp.FormData(quote_fields=False)
                form.add_field("chat_id", str(chat_id))
                form.add_field("document", document.read_bytes(), filename=name)
                return form

            return [*(text(part) for part in parts), ("sendDocument", upload)]
        return [text(part, index == len(parts) - 1) for index, part in enumerate(parts)]

    async def _then(self, method: str, body: Callable[[], _Body]) -> SendResult:
        """A later call of a message already begun: a flood refusal is waited out here."""
        for _attempt in range(CONTINUE_ATTEMPTS):
            result = await self._call(method, body())
            if result.outcome != Outcome.RETRY:
                return result
            await asyncio.sleep(min(result.retry_after, CONTINUE_WAIT))
        return result

    async def _call(self, method: str, body: dict[str, object] | aiohttp.FormData) -> SendResult:
        """One Bot API call, its answer mapped to an outcome the dispatcher understands."""
        assert self._session is not None
        kwargs = {"data": body} if isinstance(body, aiohttp.FormData) else {"json": body}
        async with self._session.post(
            self._base + method, proxy=self._proxy, proxy_auth=self._proxy_auth, **kwargs
        ) as response:
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
