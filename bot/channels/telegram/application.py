"""The Telegram channel on python-telegram-bot 22: one handler, polling or webhook, and the
outbox's port; started and stopped by the composition root in its event loop."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.request import BaseRequest

from bot.channels.telegram import CHANNEL
from bot.channels.telegram.ordering import ChatOrder
from bot.channels.telegram.reply_bot import ReplyBot, reply_bot
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.translate import (
    TelegramFiles,
    incoming_from,
    mark_chosen,
    send_reply,
    set_chat_commands,
    set_commands,
    stats,
)
from bot.core.engine import Core
from bot.core.types import Aside, Result, result_of
from bot.settings import Settings
from scheduler.dispatcher import Port
from storage import inbox
from storage.types import utcnow

log = logging.getLogger(__name__)
FINISH_EVERY = 0.2  # seconds: answered inbox rows are recorded in one statement this often
RETRY_UNDONE_EVERY = 30.0  # seconds: deliveries left undone (the database away) handled again
T = TypeVar("T")


class UpdateHandler:
    """Holds the core the handler talks to (no lookups in bot_data), and the core's threads.

    Updates of different chats arrive at once (``ChatOrder``); the core's blocking work runs on
    a pool of its own, so one chat's database wait or long step never holds another's answer.
    """

    def __init__(
        self, core: Core, threads: int, on_board_notice: Callable[[], None] | None = None
    ) -> None:
        self.core = core
        self.on_board_notice = on_board_notice
        # Idle between updates; the interpreter joins it at exit, so an Application may restart.
        self.worker = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="thidua-core")
        # Long work (exports) on threads of its own: it never takes a core thread or a chat's turn.
        self.aside = ThreadPoolExecutor(max_workers=2, thread_name_prefix="thidua-aside")
        self.inbox_ids: dict[int, int] = {}  # update id -> its inbox row, for polled updates
        self.finished: list[int] = []  # inbox rows answered, not yet recorded
        self._finisher: asyncio.Task[None] | None = None

    async def _in_worker(self, function: Callable[[], T]) -> T:
        """Runs blocking core work off the event loop, on the core's thread."""
        return await asyncio.get_running_loop().run_in_executor(self.worker, function)

    async def handle_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answers one update through the core; a person's chat never breaks the update loop."""
        inbox_id = self.inbox_ids.pop(update.update_id, None)
        member = update.my_chat_member
        if member is not None and member.new_chat_member.status == "kicked":
            await self._unreachable(str(member.chat.id))
            await self._answered(inbox_id)
            return
        incoming = incoming_from(update, context.bot.username)
        if incoming is None:
            log.debug("skipped update %s", update.update_id)
            await self._answered(inbox_id)
            return
        incoming = replace(incoming, inbox_id=inbox_id)
        files = TelegramFiles(context.bot, asyncio.get_running_loop())
        result = await self._in_worker(partial(self.core.handle, incoming, files=files))
        bot = context.bot
        assert isinstance(bot, ReplyBot)  # build_application's
        if update.callback_query is not None:
            try:
                await mark_chosen(bot, update)
            except TelegramError as error:  # e.g. a press answered after downtime: too old
                log.info("could not answer a button press: %s", error)
        await self.answer(bot, incoming.chat_id, result, inbox_id)
        if result.board and self.on_board_notice is not None:
            self.on_board_notice()  # the outbox sends them now rather than within the minute
        for aside in result.aside:  # its result follows when done; other updates go on
            context.application.create_task(
                self._aside(bot, incoming.chat_id, aside, result.language), update=update
            )

    async def answer(
        self, bot: ReplyBot, chat_id: str, result: Result, inbox_id: int | None
    ) -> None:
        """Sends an answer; once it went out (or the chat blocked us) its inbox row is finished.
        A network failure leaves it to be sent again at the next start."""
        try:
            for reply in result.replies:
                await send_reply(bot, chat_id, reply)
            if result.menu_role is not None:
                await set_chat_commands(
                    bot,
                    chat_id=int(chat_id),
                    role=result.menu_role,
                    chosen_language=result.chosen_language,
                )
        except Forbidden:
            await self._unreachable(chat_id)
        except TelegramError as error:  # the data is saved; the board must still hear of it
            stats["reply_failed"] += 1
            log.error("could not answer chat %s: %r", chat_id, error)
            return
        if result.handled:  # else the apology went out, and the delivery waits to be handled
            await self._answered(inbox_id)

    async def _answered(self, inbox_id: int | None) -> None:
        """Nothing is left to do for this delivery: recorded with others within FINISH_EVERY
        (a crash in between sends that answer again at the next start, never loses it)."""
        if inbox_id is None:
            return
        self.finished.append(inbox_id)
        if self._finisher is None or self._finisher.done():
            self._finisher = asyncio.create_task(self._finish_soon())

    async def _finish_soon(self) -> None:
        """Writes the finished rows gathered meanwhile, in one statement."""
        await asyncio.sleep(FINISH_EVERY)
        await self.flush_finished()

    async def flush_finished(self) -> None:
        """Writes every finished row now (also at stop)."""
        ids, self.finished = self.finished, []
        if ids:
            done = partial(self.core.finish, ids)
            await asyncio.get_running_loop().run_in_executor(self.worker, done)

    async def _aside(self, bot: ReplyBot, chat_id: str, aside: Aside, language: str) -> None:
        """Runs a step's long work on the aside threads, then sends its result to the chat."""
        work = partial(self.core.run_aside, CHANNEL, chat_id, aside, language)
        reply = await asyncio.get_running_loop().run_in_executor(self.aside, work)
        await self.answer(bot, chat_id, Result([reply], language=language), None)

    async def _unreachable(self, chat_id: str) -> None:
        """Counts a chat that blocked the bot and marks its link unreachable."""
        stats["blocked"] += 1
        unreachable = partial(self.core.mark_unreachable, channel=CHANNEL, chat_id=chat_id)
        if await self._in_worker(unreachable):
            log.info("chat %s blocked the bot; marked unreachable", chat_id)


def build_application(
    settings: Settings,
    core: Core,
    *,
    request: BaseRequest | None = None,
    rate_limited: bool = True,
    on_board_notice: Callable[[], None] | None = None,
    handler: UpdateHandler | None = None,
) -> Application:
    """The PTB application with our single update handler; the token comes from settings.

    ``request`` replaces the HTTP client (benchmarks use an offline one); ``rate_limited=False``
    drops Telegram's pacing, for measuring processing alone.
    """
    handler = handler or UpdateHandler(core, settings.core_threads, on_board_notice)
    bot = reply_bot(settings, request=request, rate_limited=rate_limited)
    order = ChatOrder(settings.concurrent_chats)  # other chats go on while one chat waits
    application = Application.builder().bot(bot).concurrent_updates(order).build()
    application.add_handler(TypeHandler(Update, handler.handle_update))
    application.add_error_handler(_log_error)
    return application


async def announce_commands(application: Application) -> None:
    """Publishes the default command menus once the bot is known."""
    try:
        await set_commands(application.bot, role=None)
    except TelegramError as error:
        log.warning("could not set the command menu: %s", error)


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Counts and logs what a handler raised; PTB keeps polling."""
    stats["errors"] += 1
    log.error("update %s failed: %r", getattr(update, "update_id", "?"), context.error)


class TelegramChannel:
    """Receives updates (long polling, or a webhook when a public URL is set) and sends the
    outbox's messages; the token comes from settings and is never logged."""

    name = CHANNEL

    def __init__(
        self, settings: Settings, core: Core, *, on_board_notice: Callable[[], None] | None = None
    ) -> None:
        assert settings.telegram_token is not None
        self.settings = settings
        self.handler = UpdateHandler(core, settings.core_threads, on_board_notice)
        self.application = build_application(settings, core, handler=self.handler)
        self.sender = TelegramSender(
            settings.telegram_token.get_secret_value(), base_url=settings.telegram_api_url
        )
        self.port = Port(
            self.sender, rate=settings.reminder_rate, per_chat=settings.reminder_per_chat_seconds
        )
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Opens the sender, publishes the command menus, then starts receiving; a start that
        fails halfway closes what it opened."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            await self.close()
            raise

    async def _start(self) -> None:
        settings, application = self.settings, self.application
        await self.sender.start()
        await application.initialize()
        await announce_commands(application)
        await application.start()
        await self._recover()
        if not settings.webhook_url:  # polling: our own loop, through the inbox
            self._poller = asyncio.create_task(self._poll(), name="telegram-polling")
            return
        # The webhook through PTB's server: acknowledged before it is stored (our web front,
        # which stores first, is the next step).
        updater = application.updater
        assert updater is not None
        secret = settings.webhook_secret
        await updater.start_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=settings.webhook_path,
            webhook_url=settings.webhook_url,
            secret_token=secret.get_secret_value() if secret else secrets.token_urlsafe(32),
            allowed_updates=Update.ALL_TYPES,
        )

    async def _recover(self) -> None:
        """What a crash left: answers handled but not sent go out; deliveries stored but not
        handled are handled now, before anything new."""
        engine, bot = self.handler.core.engine, self.application.bot
        assert isinstance(bot, ReplyBot)
        await asyncio.to_thread(inbox.prune, engine, utcnow())
        for row_id, chat_id, answer in await asyncio.to_thread(inbox.unanswered, engine, CHANNEL):
            await self.handler.answer(bot, chat_id, result_of(answer), row_id)
        await self._handle_undone()

    async def _handle_undone(self, received_before: datetime | None = None) -> None:
        """Puts stored deliveries not yet handled on the queue (not those already on it)."""
        engine, bot = self.handler.core.engine, self.application.bot
        queued = set(self.handler.inbox_ids.values())
        rows = await asyncio.to_thread(inbox.undone, engine, CHANNEL, received_before)
        for row_id, payload in rows:
            if row_id not in queued:
                await self._queue(Update.de_json(payload, bot), row_id)

    async def _queue(self, update: Update, row_id: int) -> None:
        """Hands a stored delivery to the Application, its inbox row noted for the handler."""
        self.handler.inbox_ids[update.update_id] = row_id
        await self.application.update_queue.put(update)

    async def _poll(self) -> None:
        """Long polling that stores each batch in the inbox before confirming it to Telegram
        (the next call's offset): a crash between loses nothing; a database away means no
        confirmation, and Telegram delivers the batch again."""
        offset: int | None = None
        pause = 1.0
        bot, core = self.application.bot, self.handler.core
        loop = asyncio.get_running_loop()
        looked_back = loop.time()
        while True:
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=self.settings.poll_timeout,
                    allowed_updates=Update.ALL_TYPES,
                )  # fmt: skip
                if updates:
                    items = [(_chat_of(u), str(u.update_id), u.to_dict()) for u in updates]
                    fresh = await loop.run_in_executor(
                        self.handler.worker, partial(core.receive, CHANNEL, items)
                    )
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Telegram, the network or the database: try again
                self._polling_error(error)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
                continue
            pause = 1.0
            if loop.time() - looked_back > RETRY_UNDONE_EVERY:  # the database was away meanwhile?
                looked_back = loop.time()
                await self._handle_undone(utcnow() - timedelta(seconds=RETRY_UNDONE_EVERY))
            if not updates:
                continue
            offset = updates[-1].update_id + 1  # confirmed with the next call: stored by now
            for update in updates:
                row_id = fresh.get(str(update.update_id))
                if row_id is not None:  # one delivered again and stored before is not re-run
                    await self._queue(update, row_id)

    def _polling_error(self, error: Exception) -> None:
        """A failed getUpdates or store (the network, Telegram, the database): one line."""
        stats["polling_errors"] += 1
        log.warning("getUpdates failed, polling again: %r", error)

    async def stop(self) -> None:
        """Stops receiving and lets the updates in hand finish (their answers still go out)."""
        application = self.application
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await self.handler.flush_finished()

    async def close(self) -> None:
        """Closes the connections, the outbox's too: after the reminder service has stopped."""
        await self.application.shutdown()
        await self.sender.close()


def _chat_of(update: Update) -> str:
    """The chat an update belongs to, as the inbox keys it ("" for updates of no chat)."""
    chat = update.effective_chat
    return str(chat.id) if chat is not None else ""


def configure(
    settings: Settings, core: Core, *, on_board_notice: Callable[[], None] | None = None
) -> TelegramChannel | None:
    """The Telegram channel when a token is set; None otherwise."""
    if settings.telegram_token is None:
        return None
    return TelegramChannel(settings, core, on_board_notice=on_board_notice)
