"""The Telegram channel on python-telegram-bot 22: one handler, polling or webhook, and the
outbox's port; started and stopped by the composition root in its event loop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from telegram import Update
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.request import BaseRequest

from bot.channels import StartFailed
from bot.channels.answered import Answered, look_back, recover
from bot.channels.telegram import CHANNEL
from bot.channels.telegram.ordering import ChatOrder, Delivery, Payload, Stored, chat_of
from bot.channels.telegram.pacing import ChatPacer
from bot.channels.telegram.reply_bot import ReplyBot, reply_bot
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.translate import (
    TelegramFiles,
    document_of,
    incoming_from,
    mark_chosen,
    send_reply,
    set_chat_commands,
    set_commands,
    stats,
)
from bot.channels.telegram.webhook import Webhook
from bot.core.engine import Core, Unavailable, apology
from bot.core.types import Aside, Result
from bot.i18n import _
from bot.metrics import ANSWER_SECONDS
from bot.settings import Settings
from bot.web import WebFront
from scheduler.dispatcher import Port

log = logging.getLogger(__name__)
WEBHOOK_CONNECTIONS = 40  # Telegram's default: deliveries it makes at once
AGAIN = 5.0  # seconds: a kept delivery the database refused is taken up again this soon, once
T = TypeVar("T")


class UpdateHandler:
    """Holds the core the handler talks to (no lookups in bot_data), and the core's threads.

    Chats are handled at once (``ChatOrder``), each from the inbox in order of arrival; the
    core's blocking work runs on a pool of its own, so one chat's database wait or long step
    never holds another's answer.
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
        self.waiting: dict[str, Stored] = {}  # chat -> its marker queued, not yet begun
        self.again: dict[str, asyncio.TimerHandle] = {}  # chat -> its kept deliveries' retry
        self.retried: set[str] = set()  # chats retried once since their last handled delivery
        self.answered = Answered(core, self.worker)  # rows answered, recorded soon after

    async def _in_worker(self, function: Callable[[], T]) -> T:
        """Runs blocking core work off the event loop, on the core's thread."""
        return await asyncio.get_running_loop().run_in_executor(self.worker, function)

    async def queue(self, application: Application, chat_id: str, update: Payload | None) -> None:
        """Tells the Application that a chat has stored deliveries: one marker per chat while it
        waits for its turn (the drain takes them all), carrying the updates that came."""
        waiting = self.waiting.get(chat_id)
        if waiting is None:
            waiting = self.waiting[chat_id] = Stored(chat_id)
            await application.update_queue.put(waiting)
        if update is not None:
            waiting.updates.append(update)

    async def handle_stored(self, stored: Stored, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Handles the chat's deliveries waiting in the inbox, oldest first (on PostgreSQL those
        other workers stored too), until none is left; a person's chat never breaks the loop."""
        if self.waiting.get(stored.chat_id) is stored:
            del self.waiting[stored.chat_id]  # what comes from now on needs a marker of its own
        bot = context.bot
        assert isinstance(bot, ReplyBot)  # build_application's
        decode = partial(incoming_from, bot_username=bot.username)
        files = TelegramFiles(bot, asyncio.get_running_loop())
        take = partial(self.core.handle_next, CHANNEL, stored.chat_id, decode, files=files)
        try:
            for update in stored.updates:  # documents downloaded before the turn
                document = document_of(update.get("message"))
                if document is None:
                    continue
                if self.core.admit_file(CHANNEL, stored.chat_id, document).taken:
                    await files.prefetch(document, self.core.settings.data_dir / "incoming")
            while True:
                try:
                    handled = await self._in_worker(take)
                except Unavailable:  # stored: handled once the database is back
                    await self._apologise(bot, stored.updates)
                    self._again_soon(context.application, stored.chat_id)
                    return
                if handled is None:  # an earlier marker's drain took them already
                    return
                await self._after(bot, handled.payload, handled.result, handled.inbox_id, context)
                ANSWER_SECONDS.labels(CHANNEL).observe(time.monotonic() - stored.arrived)
                if not handled.result.handled:  # kept, with the apology: tried again soon
                    self._again_soon(context.application, stored.chat_id)
                    return
                self.retried.discard(stored.chat_id)
                if not handled.more:
                    return
        finally:
            files.discard()

    async def handle_update(self, update: Delivery, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answers an update fed to the Application directly (benchmarks), not from the inbox."""
        bot = context.bot
        assert isinstance(bot, ReplyBot)
        incoming = incoming_from(update.payload, bot.username)
        result = Result()
        if incoming is not None:
            files = TelegramFiles(bot, asyncio.get_running_loop())
            result = await self._in_worker(partial(self.core.handle, incoming, files=files))
        await self._after(bot, update.payload, result, None, context)

    async def _after(
        self,
        bot: ReplyBot,
        update: Payload,
        result: Result,
        inbox_id: int | None,
        context: ContextTypes.DEFAULT_TYPE,
    ) -> None:
        """Telegram's part once the core answered: the press acknowledged, the answer sent,
        the board's notices pushed, long work started."""
        member = update.get("my_chat_member") or {}
        if (member.get("new_chat_member") or {}).get("status") == "kicked":
            await self._unreachable(chat_of(update))
            self.answered.done(inbox_id)
            return
        chat_id = chat_of(update)
        if "callback_query" in update:
            try:
                await mark_chosen(bot, update)
            except TelegramError as error:  # e.g. a press answered after downtime: too old
                log.info("could not answer a button press: %s", error)
        await self.answer(bot, chat_id, result, inbox_id)
        if result.board and self.on_board_notice is not None:
            self.on_board_notice()  # the outbox sends them now rather than within the minute
        for aside in result.aside:  # its result follows when done; other updates go on
            context.application.create_task(
                self._aside(bot, chat_id, aside, result.language), update=update
            )

    def _again_soon(self, application: Application, chat_id: str) -> None:
        """The database refused a kept delivery: its chat is taken up again in AGAIN seconds,
        once (a blip is answered within seconds), then only by the look-back."""
        if chat_id in self.retried:  # a retry is due, or was made: the look-back's now
            return
        self.retried.add(chat_id)
        self.again[chat_id] = asyncio.get_running_loop().call_later(
            AGAIN, lambda: self._take_up(application, chat_id)
        )

    def _take_up(self, application: Application, chat_id: str) -> None:
        del self.again[chat_id]
        if application.running:
            application.create_task(self.queue(application, chat_id, None))

    def cancel_retries(self) -> None:
        """At stop: what is kept waits for the next start's look-back."""
        for timer in self.again.values():
            timer.cancel()
        self.again.clear()

    async def _apologise(self, bot: ReplyBot, updates: list[Payload]) -> None:
        """The database is away: the person hears so, once; the deliveries wait in the inbox."""
        for update in updates[-1:]:
            incoming = incoming_from(update, bot.username)
            if incoming is not None:
                await self.answer(bot, incoming.chat_id, apology(incoming, kept=True), None)

    async def answer(
        self, bot: ReplyBot, chat_id: str, result: Result, inbox_id: int | None
    ) -> None:
        """Sends an answer; once it went out (or the chat blocked us) its inbox row is finished.
        A network failure leaves it to be sent again later; a file gone from the disk cannot
        be sent again, and is let go."""
        with self.answered.going_out(inbox_id):
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
            except OSError as error:  # a file of the answer was deleted meanwhile
                stats["reply_failed"] += 1
                log.error("could not answer chat %s, a file is missing: %r", chat_id, error)
        if result.handled:  # else the apology went out, and the delivery waits to be handled
            self.answered.done(inbox_id)

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
    application.add_handler(TypeHandler(Stored, handler.handle_stored))
    application.add_handler(TypeHandler(Delivery, handler.handle_update))
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
    """Receives updates (long polling, or a webhook on the web front when a public URL is set)
    through the inbox, and sends the outbox's messages; the token is never logged."""

    name = CHANNEL

    def __init__(
        self,
        settings: Settings,
        core: Core,
        *,
        on_board_notice: Callable[[], None] | None = None,
        web: WebFront | None = None,
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
        self.webhook: Webhook | None = None
        if settings.telegram_webhook_url:
            if web is None:
                raise ValueError("a Telegram webhook needs the web front (THIDUA_WEB_PORT)")
            secret = settings.telegram_webhook_secret
            assert secret is not None  # a token is set
            self.webhook = Webhook(secret, self.store)
            web.add("POST", "/" + settings.webhook_path.strip("/"), self.webhook.receive)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Opens the sender, publishes the command menus, then starts receiving; a start that
        fails halfway closes what it opened."""
        try:
            await self._start()
        except BaseException as error:
            await self.stop()
            await self.close()
            if isinstance(error, InvalidToken):
                raise StartFailed(
                    _(
                        "Telegram refused the bot token. Check THIDUA_TELEGRAM_TOKEN (the token"
                        " @BotFather gave) and THIDUA_TELEGRAM_API_URL, then start again."
                    )
                ) from None
            if isinstance(error, NetworkError):
                raise StartFailed(
                    _(
                        "Telegram could not be reached at start (%(error)s). Check the network"
                        " and THIDUA_TELEGRAM_API_URL, then start again."
                    )
                    % {"error": error.message[:200]}
                ) from None
            raise

    async def _start(self) -> None:
        settings, application = self.settings, self.application
        await self.sender.start()
        await application.initialize()
        await announce_commands(application)
        await application.start()
        await self._recover(at_start=True)  # what a crash left goes first
        bot = application.bot
        if self.webhook is None:  # polling: our own loop, through the inbox
            await bot.delete_webhook()  # getUpdates is refused while a webhook is set
            self._tasks.append(asyncio.create_task(self._poll(), name="telegram-polling"))
        else:  # every worker sets the same URL and secret: setting it again changes nothing
            await bot.set_webhook(
                url=str(settings.telegram_webhook_url),
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=Update.ALL_TYPES,
                max_connections=WEBHOOK_CONNECTIONS,
            )
        looking = look_back(CHANNEL, self._recover)
        self._tasks.append(asyncio.create_task(looking, name="telegram-inbox"))

    async def _recover(self, *, at_start: bool = False) -> None:
        """What a crash (or the database away) left (``answered.recover``): kept answers sent,
        chats with deliveries not handled queued."""
        bot = self.application.bot
        assert isinstance(bot, ReplyBot)
        handler = self.handler
        answer = partial(handler.answer, bot)
        for chat in await recover(
            CHANNEL, handler.core, handler.answered, answer, at_start=at_start
        ):
            await handler.queue(self.application, chat, None)

    async def store(self, updates: list[Payload]) -> None:
        """Stores deliveries in the inbox as Telegram sent them, then queues their chats;
        raises when the database cannot take them (the delivery is then not acknowledged, and
        comes again)."""
        core = self.handler.core
        by_key = {str(u["update_id"]): u for u in updates}
        items = [(chat_of(u), key, u) for key, u in by_key.items()]
        receive = partial(core.receive, CHANNEL, items)
        fresh = await asyncio.get_running_loop().run_in_executor(self.handler.worker, receive)
        for key in fresh:  # one delivered again and stored before is not queued again
            update = by_key[key]
            await self.handler.queue(self.application, chat_of(update), update)

    async def _poll(self) -> None:
        """Long polling that stores each batch in the inbox before confirming it to Telegram
        (the next call's offset): a crash between loses nothing; a database away means no
        confirmation, and Telegram delivers the batch again."""
        offset: int | None = None
        pause = 1.0
        bot = self.application.bot
        assert isinstance(bot, ReplyBot)
        while True:
            try:
                updates = await bot.get_update_payloads(offset, self.settings.poll_timeout)
                if updates:
                    await self.store(updates)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Telegram, the network or the database: try again
                self._polling_error(error)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
                continue
            pause = 1.0
            if updates:
                offset = updates[-1]["update_id"] + 1  # confirmed with the next call: stored by now

    def _polling_error(self, error: Exception) -> None:
        """A failed getUpdates or store (the network, Telegram, the database): one line."""
        stats["polling_errors"] += 1
        log.warning("getUpdates failed, polling again: %r", error)

    async def stop(self) -> None:
        """Stops receiving and lets the updates in hand finish (their answers still go out)."""
        application = self.application
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        limiter = application.bot.rate_limiter
        if isinstance(limiter, ChatPacer):  # a cut answer is kept for the next start, not waited on
            limiter.stopping = True
        self.handler.cancel_retries()
        if application.running:
            await application.stop()
        await self.handler.answered.close()

    async def close(self) -> None:
        """Closes the connections, the outbox's too: after the reminder service has stopped."""
        await self.application.shutdown()
        bot = self.application.bot
        if isinstance(bot, ReplyBot):
            await bot.close_connections()
        await self.sender.close()


def configure(
    settings: Settings,
    core: Core,
    *,
    on_board_notice: Callable[[], None] | None = None,
    web: WebFront | None = None,
) -> TelegramChannel | None:
    """The Telegram channel when a token is set; None otherwise."""
    if settings.telegram_token is None:
        return None
    return TelegramChannel(settings, core, on_board_notice=on_board_notice, web=web)
