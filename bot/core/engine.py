"""Dispatch: load the chat's state, run the step, save state and data in one transaction."""

from __future__ import annotations

import logging
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.engine import Connection, Engine

from bot.core import routing
from bot.core.context import Ctx
from bot.core.flow import Flow, Router
from bot.core.types import Aside, FilePort, FileRef, Incoming, Reply, Result, answer_of
from bot.core.upload_rate import UploadRate, Verdict
from bot.i18n import _, fmt_number, pick_language, use_language
from bot.metrics import ERRORS, UPDATES
from bot.settings import Settings
from storage import conversations, inbox, links, outbox
from storage.engine import begin_update, session_for
from storage.outbox import Target
from storage.text import clean, nfc
from storage.types import utcnow

log = logging.getLogger(__name__)
RECENT_KEYS = 64  # deliveries remembered per chat: more than any redelivery reaches back
MAX_ATTEMPTS = 5  # a delivery whose chat cannot be opened this often is answered and let go


class Core:
    """The conversation engine every channel talks to; it answers with the flows it is given."""

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        flows: Iterable[Flow],
        board: Target | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.router = Router(flows)
        self.board = board
        self.clock = clock
        # SQLite has one writer, and every update writes: the core's threads take turns here,
        # handed over at once, rather than in SQLite's busy handler, which sleeps in steps of up
        # to 100 ms (under a surge it spent most of the time there).
        self._turns = threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        self._aside_lock = threading.Lock()
        self._aside_running: set[tuple[str, str, str]] = set()  # (channel, chat, key)
        self.uploads = UploadRate(settings.files_per_minute)

    def admit_file(self, channel: str, chat_id: str, file: FileRef) -> Verdict:
        """Whether the chat may send this file now (asked before downloading it ahead, and
        again in the turn: the same file is one file)."""
        return self.uploads.admit(channel, chat_id, file.file_id, self.clock().timestamp())

    def handle(self, incoming: Incoming, *, files: FilePort | None = None) -> Result:
        """Answers one input; never raises for a person's mistake, a step's bug or the database."""
        incoming = _normalised(incoming)
        with self._turns:
            return self._connected(incoming, files)

    def handle_next(
        self,
        channel: str,
        chat_id: str,
        decode: Callable[[dict[str, object]], Incoming | None],
        *,
        files: FilePort | None = None,
    ) -> Handled | None:
        """Handles the chat's oldest stored delivery not yet done, in the chat's turn (other
        processes on PostgreSQL wait for it); None when none is left. ``decode`` is the
        channel's reading of a stored payload (None: nothing for the core, e.g. a group post).
        Raises Unavailable when the database cannot be reached: the delivery stays stored."""
        with self._turns:
            try:
                conn = self.engine.connect()
            except Exception as error:
                log.exception("no database connection for %s:%s", channel, chat_id)
                raise Unavailable from error
            with conn:
                try:
                    begin_update(conn)
                    inbox.lock_chat(conn, channel, chat_id)
                    now = self.clock()  # the step's time is when its turn came
                    row = inbox.oldest_undone(conn, channel, chat_id)
                    if row is None:
                        conn.rollback()
                        return None
                    row_id, payload, more = row
                    incoming = _decoded(decode, payload)
                    if incoming is None:
                        inbox.mark_done(conn, row_id, {}, now)
                        conn.commit()
                        return Handled(row_id, payload, Result(), more)
                except Exception as error:
                    log.exception("could not take the next delivery of %s:%s", channel, chat_id)
                    raise Unavailable from error
                incoming = _normalised(replace(incoming, inbox_id=row_id))
                result = self._handle_on(conn, incoming, now, files, begun=True)
                if not result.handled:  # the chat could not even be opened
                    result = self._failed_to_open(conn, incoming, result, now)
                return Handled(row_id, payload, result, more)

    def _failed_to_open(
        self, conn: Connection, incoming: Incoming, apologised: Result, now: datetime
    ) -> Result:
        """Counts the attempt; the apology goes with the first only, and after MAX_ATTEMPTS
        the delivery is let go, answered with the plain apology, so that it no longer holds its
        chat."""
        assert incoming.inbox_id is not None
        try:
            conn.rollback()
            inbox.lock_chat(conn, incoming.channel, incoming.chat_id)
            attempts = inbox.count_attempt(conn, incoming.inbox_id)
            let_go = replace(_apologising(incoming, kept=False), handled=True)  # to send again
            gave_up = attempts >= MAX_ATTEMPTS and self._done(conn, incoming, let_go, now)
            conn.commit()
        except Exception:  # the database still away: it stays undone, tried again later
            log.exception("could not count an attempt at inbox row %s", incoming.inbox_id)
            conn.rollback()
            return apologised
        if not gave_up:  # the person heard it was kept at the first attempt: not again
            return apologised if attempts == 1 else replace(apologised, replies=[])
        log.error(
            "gave up inbox row %s of %s:%s after %s attempts",
            incoming.inbox_id, incoming.channel, incoming.chat_id, attempts,
        )  # fmt: skip
        return let_go

    def _connected(self, incoming: Incoming, files: FilePort | None) -> Result:
        """Connects, then answers; a connection that cannot be made is answered with the apology."""
        now = self.clock()
        try:
            conn = self.engine.connect()
        except Exception:  # the database server down or unreachable
            log.exception("no database connection for %s:%s", incoming.channel, incoming.chat_id)
            return apology(incoming)
        with conn:
            return self._handle_on(conn, incoming, now, files)

    def _handle_on(
        self,
        conn: Connection,
        incoming: Incoming,
        now: datetime,
        files: FilePort | None,
        *,
        begun: bool = False,
    ) -> Result:
        """Opens the chat, runs its step, and saves state and data in one transaction."""
        try:
            if not begun:
                begin_update(conn)
            conv, contact = conversations.open_chat(
                conn=conn, channel=incoming.channel, chat_id=incoming.chat_id, now=now
            )
        except Exception:  # the database gone or locked for longer than it waits
            log.exception("could not open the chat %s:%s", incoming.channel, incoming.chat_id)
            return apology(incoming)
        if incoming.key is not None and incoming.key in (conv.recent_keys or ()):
            log.info("skipped a repeated delivery %s for %s", incoming.key, conv.chat_id)
            self._done(conn, incoming, Result(), now)
            conn.commit()
            UPDATES.labels(incoming.channel, "skipped").inc()
            return Result()
        language = conv.language or pick_language(incoming.language_code)
        ctx = Ctx(
            conn, conv, contact, incoming, now, self.settings, files, self.router,
            self._busy(incoming.channel, incoming.chat_id),
        )  # fmt: skip
        with use_language(language):
            try:
                self._answer(ctx, language)
                if incoming.key is not None:  # out of order or after an id reset: still new
                    conv.recent_keys = [*(conv.recent_keys or ())[1 - RECENT_KEYS :], incoming.key]
                conv.updated_at = now
                conversations.save_chat(conn=conn, state=conv)
                self._done(conn, incoming, ctx.result, now)  # with its effects, or not at all
                conn.commit()
                self._claim_aside(incoming, ctx.result.aside)
                UPDATES.labels(incoming.channel, "answered").inc()
            except Exception:  # a step's bug, or the database refusing the commit
                log.exception("step %r failed on %s input", conv.step, incoming.kind)
                ERRORS.labels(incoming.channel).inc()
                UPDATES.labels(incoming.channel, "apology").inc()
                conn.rollback()  # which ends the chat's turn too (PostgreSQL)
                failed = Result([_failure_reply()], language=language)
                try:  # answered with the apology: a restart must not run the step again
                    inbox.lock_chat(conn, incoming.channel, incoming.chat_id)
                    if not self._done(conn, incoming, failed, now):
                        failed = Result()  # another worker took its turn in between, and answered
                    conn.commit()
                except Exception:
                    log.exception("could not mark inbox row %s done", incoming.inbox_id)
                    conn.rollback()
                return failed
            finally:
                ctx.close()
        return ctx.result

    def _answer(self, ctx: Ctx, language: str) -> None:
        """Runs the step and writes what it left in the ORM session (not yet committed)."""
        came, file = ctx.incoming, ctx.incoming.file
        verdict = None if file is None else self.admit_file(came.channel, came.chat_id, file)
        if verdict is not None and not verdict.taken:
            ctx.say(
                _(
                    "You sent %(n)s files in the last minute, more than the bot takes at once,"
                    " so this file was not received. Please send it again in %(seconds)s"
                    " seconds."
                )
                % {"n": fmt_number(verdict.recent), "seconds": fmt_number(verdict.wait)}
            )
        else:
            routing.route(ctx)
        ctx.end_update()
        ctx.result.language = ctx.conv.language or language
        ctx.result.chosen_language = ctx.conv.language
        self._queue_board_notices(ctx)
        ctx.flush()

    def _queue_board_notices(self, ctx: Ctx) -> None:
        """The board's notices go into the outbox with the data they announce (one commit)."""
        board = self.board
        for notice in ctx.result.board:
            if board is None:
                log.info("board notice (no THIDUA_BOARD_CHAT): %s", notice.text)
                continue
            payload: dict[str, object] = {"text": notice.text}
            if notice.file is not None:
                same_channel = notice.file.channel == board.channel  # ids are per channel
                payload.update(
                    file_path=str(notice.file.path),
                    file_name=notice.file.name,
                    file_id=notice.file.channel_file_id if same_channel else None,
                )
            outbox.enqueue(
                session=ctx.session,
                key=f"notice:{uuid.uuid4().hex}",
                kind="notice",
                target=board,
                now=ctx.now,
                payload=payload,
            )

    def receive(
        self, channel: str, items: list[tuple[str, str, dict[str, object]]]
    ) -> dict[str, int]:
        """Stores a channel's deliveries (chat, key, payload) in the inbox before the channel
        acknowledges them; returns the new ones' rows by key (taking the core's turn on SQLite)."""
        with self._turns:
            return inbox.store(self.engine, channel, items, self.clock())

    def finish(self, inbox_ids: list[int]) -> None:
        """Records answers as sent, in one statement, taking the core's turn on SQLite."""
        with self._turns:
            inbox.mark_answered(self.engine, inbox_ids, self.clock())

    @staticmethod
    def _done(conn: Connection, incoming: Incoming, result: Result, now: datetime) -> bool:
        """Marks the delivery's inbox row done, keeping the answer until it is sent; False if
        it was done already (by another worker)."""
        if incoming.inbox_id is None:
            return True
        return inbox.mark_done(conn, incoming.inbox_id, answer_of(result), now)

    def run_aside(self, channel: str, chat_id: str, aside: Aside, language: str) -> Reply:
        """Runs a step's long work on a session of its own, outside any chat's turn; its reply
        (the apology if it fails) is for the channel to send."""
        try:
            with use_language(language), session_for(self.engine) as session:
                try:
                    return aside.work(session)
                except Exception:
                    log.exception("long work %r for %s:%s failed", aside.key, channel, chat_id)
                    return _failure_reply()
        finally:
            with self._aside_lock:
                self._aside_running.discard((channel, chat_id, aside.key))

    def _busy(self, channel: str, chat_id: str) -> frozenset[str]:
        """Keys of this chat's long work still running."""
        with self._aside_lock:
            return frozenset(k for c, i, k in self._aside_running if (c, i) == (channel, chat_id))

    def _claim_aside(self, incoming: Incoming, asides: list[Aside]) -> None:
        """Marks the committed update's long work as running, until run_aside ends it."""
        with self._aside_lock:
            self._aside_running.update((incoming.channel, incoming.chat_id, a.key) for a in asides)

    def mark_unreachable(self, *, channel: str, chat_id: str) -> bool:
        """Records that a chat blocked the bot; True the first time."""
        with self._turns, session_for(self.engine) as session:
            changed = links.mark_unreachable(session=session, channel=channel, chat_id=chat_id)
            session.commit()
            return changed


class Unavailable(Exception):
    """The database could not be reached: what was stored stays to be handled later."""


@dataclass(frozen=True)
class Handled:
    """One stored delivery handled: its inbox row, its payload (for the channel's own part,
    e.g. a button press acknowledged), the core's answer, and whether more of the chat wait."""

    inbox_id: int
    payload: dict[str, object]
    result: Result
    more: bool


def _decoded(
    decode: Callable[[dict[str, object]], Incoming | None], payload: dict[str, object]
) -> Incoming | None:
    """The channel's reading of a stored payload; one it cannot read is nothing for the core."""
    try:
        return decode(payload)
    except Exception:
        log.exception("a stored delivery could not be read; skipped")
        return None


def _normalised(incoming: Incoming) -> Incoming:
    """NFC for everything a person typed, as phones and Macs may send NFD; no control or bidi
    character, in the text, the name or a sent file's name."""
    file = incoming.file
    if file is not None and file.name:
        file = replace(file, name=nfc(file.name) or None)
    return replace(
        incoming,
        text=unicodedata.normalize("NFC", clean(incoming.text)),
        args=nfc(incoming.args),
        user_name=nfc(incoming.user_name),
        file=file,
    )


def apology(incoming: Incoming, *, kept: bool | None = None) -> Result:
    """The apology, in the sender's app language, when the chat could not even be opened. A
    delivery ``kept`` in the inbox (by default: one that came from it) is handled once the
    database is back, so the person is asked not to send it again: sent twice, it would be
    read twice (the second "5" as the answer to the next question)."""
    UPDATES.labels(incoming.channel, "apology").inc()
    return _apologising(incoming, kept=incoming.inbox_id is not None if kept is None else kept)


def _apologising(incoming: Incoming, *, kept: bool) -> Result:
    language = pick_language(incoming.language_code)
    with use_language(language):
        reply = _kept_reply() if kept else _failure_reply()
        return Result([reply], language=language, handled=False)


def _kept_reply() -> Reply:
    """The apology for a message the inbox keeps, to be answered once the database is back."""
    return Reply(
        _(
            "Sorry, the system is briefly interrupted. Your message has been kept and will be"
            " answered as soon as the system is back; there is no need to send it again."
        )
    )


def _failure_reply() -> Reply:
    """The apology sent when a step fails; the transaction was rolled back."""
    return Reply(
        _(
            "Sorry, something went wrong while handling your message. Nothing you saved before"
            " was lost. Please try again, or type /menu."
        )
    )
