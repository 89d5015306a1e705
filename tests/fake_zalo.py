"""A fake Zalo Bot API on 127.0.0.1, written from the published shapes: ``{ok, result,
description, error_code}``; ``getUpdates`` answers one update per call and 408 when none came
(400 while a webhook is set); hex-string ids, dates in milliseconds; errors can be scripted per
method (429, 401, 403 "internal error", ``ok: false`` inside an HTTP 200)."""

from __future__ import annotations

import asyncio
import secrets
import time

from aiohttp import web

TOKEN = "1234567890:zalo-test-secret"


class FakeZalo:
    """Queue events with ``push``; what the bot sent is in ``sent`` as (chat id, text)."""

    def __init__(self, token: str = TOKEN, poll_wait: float = 0.3) -> None:
        self.token = token
        self.poll_wait = poll_wait  # seconds an empty poll waits before its 408
        self.events: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        self.sent: list[tuple[str, str]] = []
        self.calls: list[str] = []
        self.webhook: dict[str, str] = {}
        self.errors: dict[str, list[tuple[int, dict[str, object]]]] = {}  # method -> answers
        self.cuts: dict[str, int] = {}  # method -> calls whose connection is cut unanswered
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> FakeZalo:
        """Listens on a free port; ``url`` is what THIDUA_ZALO_API_URL takes."""
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._call)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/bot"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, method: str, status: int, code: int, description: str = "") -> None:
        """The next call of ``method`` answers this error."""
        body = {"ok": False, "error_code": code, "description": description}
        self.errors.setdefault(method, []).append((status, body))

    def cut(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` have their connection closed unanswered, as a
        network cut does (not recorded: they never reached Zalo)."""
        self.cuts[method] = self.cuts.get(method, 0) + times

    @staticmethod
    def event(
        chat_id: str, text: str | None = None, *, name: str = "Nguyễn Thị Hoà",
        kind: str = "message.text.received", message_id: str | None = None,
        chat_type: str = "PRIVATE",
    ) -> dict[str, object]:  # fmt: skip
        """An event as Zalo delivers it: hex ids, the date in milliseconds."""
        message: dict[str, object] = {
            "from": {"id": chat_id, "display_name": name, "is_bot": False},
            "chat": {"id": chat_id, "chat_type": chat_type},
            "message_id": message_id or secrets.token_hex(16),
            "date": int(time.time() * 1000),
        }
        if text is not None:
            message["text"] = text
        return {"event_name": kind, "message": message}

    def push(self, event: dict[str, object]) -> None:
        """Queues an event for the next poll."""
        self.events.put_nowait(event)

    def said_to(self, chat_id: str) -> str:
        """Everything sent to a chat, in order."""
        return "\n".join(text for chat, text in self.sent if chat == chat_id)

    async def wait_for(
        self, chat_id: str, words: str, *, since: int | None = None, timeout: float = 20.0
    ) -> str:
        """Waits until the chat was sent ``words`` in a message after the ``since``-th one sent
        (default: from now on); returns what it was sent after that point."""
        start = len(self.sent) if since is None else since
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fresh = "\n".join(t for c, t in self.sent[start:] if c == chat_id)
            if words in fresh:
                return fresh
            await asyncio.sleep(0.02)
        raise AssertionError(f"{words!r} never sent to {chat_id}: {self.said_to(chat_id)!r}")

    async def _call(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append(method)
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        if self.cuts.get(method, 0) > 0 and request.transport is not None:
            self.cuts[method] -= 1
            request.transport.close()
            return web.Response(status=500)  # never reaches the caller
        queued = self.errors.get(method)
        if queued:
            status, body = queued.pop(0)
            return web.json_response(body, status=status)
        params = await request.json() if request.can_read_body else {}
        if method == "getMe":
            return _ok({"id": "b0f1", "account_name": "bot.thidua", "display_name": "Bot Thi đua"})
        if method == "getWebhookInfo":
            return _ok({"url": self.webhook.get("url", "")})
        if method == "setWebhook":
            self.webhook = {"url": str(params["url"]), "secret": str(params["secret_token"])}
            return _ok(True)
        if method == "deleteWebhook":
            self.webhook = {}
            return _ok(True)
        if method == "getUpdates":
            if self.webhook:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "webhook is set"}, status=400
                )
            try:
                event = await asyncio.wait_for(self.events.get(), self.poll_wait)
            except TimeoutError:
                return web.json_response(
                    {"ok": False, "error_code": 408, "description": "Request timeout"}, status=408
                )
            return _ok(event)
        if method == "sendMessage":
            text = str(params.get("text", ""))
            if not 1 <= len(text) <= 2000:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "text length"}, status=400
                )
            self.sent.append((str(params["chat_id"]), text))
            return _ok({"message_id": secrets.token_hex(16), "date": int(time.time() * 1000)})
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})
