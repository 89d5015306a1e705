"""The Zalo channel: long polling (one update per answer, 408 when none) or the webhook on the
web front, each delivery stored in the inbox before it is acknowledged; every chat's stored
deliveries are handled in order, chats at once; answers go out as numbered text."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import random
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from pathlib import Path

from aiohttp import web

from bot.channels import StartFailed
from bot.channels.answered import NETWORK_RETRIES, Answered, look_back, recover
from bot.channels.arrivals import Arrivals
from bot.channels.zalo import CHANNEL
from bot.channels.zalo.api import CUT, ZaloApi, ZaloError
from bot.channels.zalo.sender import ZaloSender
from bot.channels.zalo.translate import chat_and_key, event_of, incoming_from, texts_of
from bot.core.engine import Core, Unavailable
from bot.core.types import (
    Aside,
    FileRef,
    FileTooLarge,
    Incoming,
    Kind,
    OutFile,
    Result,
)
from bot.file_pages import FilePages
from bot.i18n import _, use_language
from bot.settings import Settings
from bot.web import WebFront
from scheduler.dispatcher import Port
from storage import file_links, files, outbox
from storage.engine import session_for

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Bot-Api-Secret-Token"  # noqa: S105 (a header's name)
BACKOFF_MAX = 60.0  # seconds between polls at most while Zalo fails
MIN_POLL = 1.0  # seconds a poll takes at least, however fast Zalo answers
PERMANENT = {400, 404}  # an answer refused for good is not sent again
UPLOAD_LEFT = timedelta(days=1)  # an upload no step took by then is nobody's


class ZaloChannel:
    """Receives through the inbox and answers; the outbox's port sends at Zalo's own pace."""

    name = CHANNEL

    def __init__(
        self,
        settings: Settings,
        core: Core,
        *,
        on_board_notice: Callable[[], None] | None = None,
        web: WebFront | None = None,
    ) -> None:
        assert settings.zalo_token is not None
        self.settings = settings
        self.core = core
        self.on_board_notice = on_board_notice
        self.api = ZaloApi(settings.zalo_token.get_secret_value(), settings.zalo_api_url)
        self.port = Port(
            ZaloSender(self.api, settings.locale),
            rate=settings.zalo_rate,
            per_chat=settings.reminder_per_chat_seconds,
        )
        self.worker = ThreadPoolExecutor(settings.core_threads, thread_name_prefix="thidua-zalo")
        self.answered = Answered(core, self.worker)  # rows answered, recorded soon after
        self.running: dict[str, asyncio.Task[None]] = {}  # chat -> its drain
        self.again: set[str] = set()  # chats with deliveries stored while their drain ran
        self.asides: set[asyncio.Task[None]] = set()  # long work running
        self.secret = (settings.zalo_webhook_secret or "").encode()
        self.arrivals = Arrivals(self.store)  # webhook calls arriving at once share a commit
        if settings.zalo_webhook:
            if web is None:
                raise ValueError("the Zalo webhook needs the web front (THIDUA_WEB_PORT)")
            web.add("POST", "/" + settings.zalo_webhook_path.strip("/"), self.receive)
        self.pages = FilePages(settings, core.engine, core.clock, self.deliver_upload)
        if web is not None:  # files travel by one-time links: Zalo carries none
            self.pages.routes(web.add)
        self.files = LinkedFiles(self.pages.folder)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Checks the token, then starts receiving; a refused token or an unreachable API is
        one line for the operator (StartFailed)."""
        await self.api.start()
        try:
            await self.api.call("getMe")
            if not self.settings.zalo_webhook:
                info = await self.api.call("getWebhookInfo")
                if isinstance(info, dict) and info.get("url"):
                    raise StartFailed(
                        _(
                            "A Zalo webhook is set (%(url)s), so polling would be refused. Run"
                            " `thidua zalo webhook delete`, or set THIDUA_ZALO_WEBHOOK=on."
                        )
                        % {"url": str(info["url"])[:200]}
                    )
        except ZaloError as error:
            await self.api.close()
            if error.code == 401:
                raise StartFailed(
                    _("Zalo refused the bot token. Check THIDUA_ZALO_TOKEN, then start again.")
                ) from None
            raise StartFailed(
                _("Zalo could not be reached at start (%(error)s). Check THIDUA_ZALO_API_URL.")
                % {"error": str(error)[:200]}
            ) from None
        except StartFailed:
            await self.api.close()
            raise
        try:
            await self._recover(at_start=True)
        except Exception:
            await self.close()
            raise
        if not self.settings.zalo_webhook:
            self._tasks.append(asyncio.create_task(self._poll(), name="zalo-polling"))
        self._tasks.append(
            asyncio.create_task(look_back(CHANNEL, self._recover), name="zalo-inbox")
        )

    async def stop(self) -> None:
        """Stops receiving, then lets the drains in hand finish (their answers go out)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        drains = list(self.running.values())
        if drains:
            await asyncio.wait(drains, timeout=30)
        left = [*self.running.values(), *self.asides]
        for task in left:  # what did not finish in time: its delivery stays in the inbox
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        await self.answered.close()

    async def close(self) -> None:
        """Closes the connections."""
        await self.api.close()
        self.worker.shutdown(wait=False)

    async def _poll(self) -> None:
        """Long polling: each update stored before the next poll (which acknowledges it);
        errors back off with jitter; a refused token stops polling, loudly."""
        failures = 0
        while True:
            began = time.monotonic()
            try:
                result = await self.api.call_waiting(
                    "getUpdates",
                    self.settings.poll_timeout + 10,
                    timeout=self.settings.poll_timeout,
                )
            except ZaloError as error:
                if error.code == 408:  # nothing came during the poll
                    failures = 0
                    await _at_least(began, MIN_POLL)  # an instant 408 must not spin
                    continue
                if error.code == 401:
                    log.error("Zalo refused the bot token; polling stopped (THIDUA_ZALO_TOKEN)")
                    await self._alert_board()
                    return
                failures += 1
                pause = _backoff(failures)
                log.warning("Zalo polling failed (%s); again in %.0f s", error, pause)
                await asyncio.sleep(pause)
                continue
            failures = 0
            event = event_of({"result": result})
            if event is None:
                await _at_least(began, MIN_POLL)
                continue
            await self._store_until_stored(event)

    async def _alert_board(self) -> None:
        """Tells the board's chat (on a channel that still works) that Zalo stopped."""
        board = self.core.board
        if board is None or board.channel == CHANNEL:
            return
        now = self.core.clock()

        def queue() -> None:
            with use_language(self.settings.locale), session_for(self.core.engine) as session:
                outbox.enqueue(
                    session=session, key=f"zalo-token:{now.date().isoformat()}", kind="notice",
                    target=board, now=now,
                    payload={"text": _(
                        "Zalo refused the bot's token, so messages from Zalo are no longer"
                        " received. The operator must check THIDUA_ZALO_TOKEN and restart."
                    )},
                )  # fmt: skip
                session.commit()

        try:
            await asyncio.get_running_loop().run_in_executor(self.worker, queue)
        except Exception:
            log.exception("could not tell the board that Zalo stopped")
            return
        if self.on_board_notice is not None:
            self.on_board_notice()

    async def _store_until_stored(self, event: dict[str, object]) -> None:
        """Polling has no offset: an update taken from Zalo exists only here, so it is stored
        before the next poll, however long the database stays away."""
        attempts = 0
        while True:
            try:
                await self.store([event])
                return
            except Exception as error:
                attempts += 1
                pause = _backoff(attempts)
                log.error("a Zalo update is not stored yet (%r); again in %.0f s", error, pause)
                await asyncio.sleep(pause)

    async def receive(self, request: web.Request) -> web.Response:
        """The webhook: the secret in constant time, either body shape, stored, then 200."""
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not self.secret or not hmac.compare_digest(given, self.secret):
            return web.Response(status=403)
        raw = await request.read()
        if not raw.strip():
            return web.Response(status=200)  # Zalo's empty probe
        try:
            body = json.loads(raw)
        except ValueError:
            return web.Response(status=400)
        event = event_of(body)
        if event is None:  # an event of a kind we do not read: taken, so it is not repeated
            log.info("Zalo webhook: an event without a message was ignored")
            return web.Response(status=200)
        try:
            await self.arrivals.store(event)  # with the others arriving meanwhile
        except Exception as error:
            log.warning("Zalo webhook: not stored: %r", error)
            return web.Response(status=503)  # delivered again later
        return web.Response(status=200)

    async def store(self, events: list[dict[str, object]]) -> None:
        """Stores events in the inbox (a repeated message id once), then wakes their chats."""
        items = []
        for event in events:
            found = chat_and_key(event)
            if found is not None:
                items.append((found[0], found[1], event))
        await self._store_items(items)

    async def deliver_upload(self, chat_id: str, key: str, payload: dict[str, object]) -> None:
        """A file sent through an upload link: that chat's next input, through the inbox."""
        await self._store_items([(chat_id, key, {**payload, "chat_id": chat_id})])

    async def _store_items(self, items: list[tuple[str, str, dict[str, object]]]) -> None:
        receive = partial(self.core.receive, CHANNEL, items)
        fresh = await asyncio.get_running_loop().run_in_executor(self.worker, receive)
        chats = {chat for chat, key, _event in items if key in fresh}
        for chat in chats:
            self.wake(chat)

    def wake(self, chat_id: str) -> None:
        """Starts the chat's drain, or asks the running one to look again."""
        task = self.running.get(chat_id)
        if task is not None and not task.done():
            self.again.add(chat_id)
            return
        self.running[chat_id] = asyncio.create_task(self._drain(chat_id))

    async def _drain(self, chat_id: str) -> None:
        """Handles the chat's stored deliveries oldest first until none is left."""
        loop = asyncio.get_running_loop()
        take = partial(self.core.handle_next, CHANNEL, chat_id, _decode, files=self.files)
        try:
            while True:
                self.again.discard(chat_id)
                try:
                    handled = await loop.run_in_executor(self.worker, take)
                except Unavailable:  # stored: handled once the database is back
                    return
                if handled is None:
                    if chat_id in self.again:
                        continue
                    return
                try:
                    await self.answer(chat_id, handled.result, handled.inbox_id)
                except Exception:  # kept: the look-back sends it again
                    log.exception("could not answer Zalo chat %s", chat_id)
                if handled.result.board and self.on_board_notice is not None:
                    self.on_board_notice()
                for aside in handled.result.aside:  # kept until done (the loop holds weakly)
                    task = asyncio.create_task(self._aside(chat_id, aside, handled.result.language))
                    self.asides.add(task)
                    task.add_done_callback(self.asides.discard)
                if not handled.result.handled:
                    return
                if not handled.more and chat_id not in self.again:
                    return  # none left: no turn taken only to find so
        except Exception:
            log.exception("the Zalo chat %s could not be handled", chat_id)
        finally:
            if self.running.get(chat_id) is asyncio.current_task():
                del self.running[chat_id]

    async def answer(self, chat_id: str, result: Result, inbox_id: int | None) -> None:
        """Sends the replies as texts; once out, the inbox row is finished (a failure leaves
        it for the look-back to send again)."""
        with self.answered.going_out(inbox_id):
            try:
                for reply in result.replies:
                    link = await self._download_link(chat_id, reply.file) if reply.file else None
                    for text in texts_of(reply, link):
                        await self._send(chat_id, text)
            except ZaloError as error:
                if error.code not in PERMANENT:  # kept: the look-back sends it again
                    log.error("could not answer Zalo chat %s: %s", chat_id, error)
                    return
                log.error("Zalo refused the answer to chat %s for good: %s", chat_id, error)
        if result.handled:
            self.answered.done(inbox_id)

    async def _send(self, chat_id: str, text: str) -> None:
        """One text of an answer; one whose connection was cut before Zalo answered is sent
        again after each of NETWORK_RETRIES."""
        for wait in (*NETWORK_RETRIES, None):
            try:
                await self.api.call("sendMessage", chat_id=chat_id, text=text)
                return
            except ZaloError as error:
                if error.code != CUT or wait is None:
                    raise
            await asyncio.sleep(wait)

    async def _download_link(self, chat_id: str, file: OutFile) -> str | None:
        """A one-time link to a file the bot sends (None without a public address)."""
        origin = self.settings.public_url
        if not origin:
            return None

        def issue() -> str:
            with self.core.engine.begin() as conn:
                return file_links.issue(
                    conn, kind="download", channel=CHANNEL, chat_id=chat_id,
                    now=self.core.clock(), ttl=file_links.DOWNLOAD_TTL, path=file.path,
                    name=file.name,
                )  # fmt: skip

        token = await asyncio.get_running_loop().run_in_executor(self.worker, issue)
        return f"{origin}/f/{token}"

    async def _aside(self, chat_id: str, aside: Aside, language: str) -> None:
        """A step's long work, then its result to the chat."""
        work = partial(self.core.run_aside, CHANNEL, chat_id, aside, language)
        reply = await asyncio.get_running_loop().run_in_executor(self.worker, work)
        await self.answer(chat_id, Result([reply], language=language), None)

    async def _recover(self, *, at_start: bool = False) -> None:
        """Leftover uploads swept at start; answers kept but not sent go out, chats with
        deliveries not handled are woken (``answered.recover``)."""
        if at_start:
            now = self.core.clock()
            sweep = partial(files.sweep_scratch, self.pages.folder, now, UPLOAD_LEFT)
            swept = await asyncio.to_thread(sweep)
            if swept:
                log.info("deleted %s uploads no step took", swept)
        await self.answered.flush()
        for chat in await recover(
            CHANNEL, self.core, self.answered, self.answer, at_start=at_start
        ):
            self.wake(chat)


def _backoff(failures: int) -> float:
    """Seconds before trying again: doubling, capped, with jitter so workers do not align."""
    return float(min(BACKOFF_MAX, 2.0**failures) * (0.5 + random.random() / 2))  # noqa: S311


async def _at_least(began: float, seconds: float) -> None:
    """Sleeps what is left of ``seconds`` since ``began``."""
    left = seconds - (time.monotonic() - began)
    if left > 0:
        await asyncio.sleep(left)


def _decode(payload: dict[str, object]) -> Incoming | None:
    """A stored event (or a file sent through a link) read back for the core."""
    upload = payload.get("upload")
    if isinstance(upload, dict):
        return Incoming(
            channel=CHANNEL, chat_id=str(payload.get("chat_id", "")), kind=Kind.FILE,
            file=FileRef(str(upload["path"]), str(upload.get("name") or ""),
                         int(upload.get("size") or 0)),
        )  # fmt: skip
    return incoming_from(payload)


class LinkedFiles:
    """The core's way to a file sent through an upload link: it lies under our own folder
    already (the path comes from our inbox, never from the person), and is moved into place."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()

    def fetch(self, file: FileRef, dest: Path, *, max_bytes: int) -> int:
        """Moves the uploaded file to ``dest``; refuses one past ``max_bytes`` or elsewhere."""
        source = Path(file.file_id).resolve()
        if source.parent != self.folder or not source.is_file():
            raise FileNotFoundError(file.file_id)
        size = source.stat().st_size
        if size > max_bytes:
            raise FileTooLarge(size, max_bytes)
        shutil.move(source, dest)
        return size


def configure(
    settings: Settings,
    core: Core,
    *,
    on_board_notice: Callable[[], None] | None = None,
    web: WebFront | None = None,
) -> ZaloChannel | None:
    """The Zalo channel when its token is set; None otherwise."""
    if settings.zalo_token is None:
        return None
    return ZaloChannel(settings, core, on_board_notice=on_board_notice, web=web)
