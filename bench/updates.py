"""Updates per second and per-update latency through the real PTB Application, on SQLite.

Our stack (Application + one TypeHandler + Core on the channel's worker thread) is measured
against the same onboarding written the usual PTB way: a ConversationHandler whose state
PicklePersistence keeps (the linked person too, in chat_data), with the same storage calls.
The Bot API is answered in memory, so the network is excluded but PTB's own work (building
Update and Message objects, encoding requests, decoding replies) is not. Each variant runs in a
fresh child process pinned to one core, so one cannot warm up the other.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.ext import Application, ContextTypes
from telegram.request import BaseRequest, RequestData

from bot.channels.telegram.ordering import Delivery
from bot.core.engine import Core
from bot.core.types import Incoming, Result
from bot.settings import Settings
from storage.conversations import Person
from storage.engine import WalCheckpointer

CHATS = 1_000
WARMUP = 50
REPEATS = 3
NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # before every 2026 milestone, as in the tests
TOKEN = "123456:BENCH-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Thi đua", "username": "thidua_bench_bot"}
FIRST_CHAT = 700_000_000
KINDS = ("/start CODE", "yes button", "/menu")
VARIANTS = {
    "ours": "ours: Application + Core (one worker thread) + SQLite",
    "ch-thread": "ConversationHandler + PicklePersistence, DB work via asyncio.to_thread",
    "ch-inline": "ConversationHandler + PicklePersistence, DB work inline (blocks the loop)",
}
T = TypeVar("T")


class OfflineRequest(BaseRequest):
    """Answers the Bot API from memory, so only processing is measured and never the network."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.keyboards: dict[int, dict[str, Any]] = {}  # the last message with buttons, per chat
        self._next_message_id = 0

    @property
    def read_timeout(self) -> float | None:
        """No network, so no timeout."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Encodes the parameters as a real client would, then answers like the Bot API."""
        name = url.rsplit("/", 1)[-1]
        self.calls[name] += 1
        params: dict[str, Any] = {}
        if request_data is not None:
            request_data.json_parameters  # noqa: B018  (the encoding cost HTTPXRequest pays)
            params = request_data.parameters
        result = self._answer(name, params)
        return HTTPStatus.OK, json.dumps({"ok": True, "result": result}).encode()

    def _answer(self, name: str, params: dict[str, Any]) -> object:
        """The ``result`` of one Bot API method."""
        if name == "getMe":
            return BOT_USER
        if name == "sendMessage":
            self._next_message_id += 1
            message = self._message(params, self._next_message_id)
            if "reply_markup" in params:
                self.keyboards[message["chat"]["id"]] = message
            return message
        if name == "editMessageText":
            return self._message(params, int(params["message_id"]))
        return True  # answerCallbackQuery, setMyCommands, deleteWebhook…

    @staticmethod
    def _message(params: dict[str, Any], message_id: int) -> dict[str, Any]:
        """A bot's message as Telegram returns it, buttons included."""
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private", "first_name": "An"},
            "date": int(time.time()),
            "text": params.get("text", ""),
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message


def _prepare(folder: Path, name: str, chats: int) -> tuple[Engine, Settings, list[str]]:
    """A migrated SQLite database with the 2026 campaign, one enterprise and a code per chat."""
    from zoneinfo import ZoneInfo

    from storage import campaigns, invitations, registry
    from storage.engine import make_engine, session_for
    from storage.migrate import upgrade
    from storage.models import Role
    from tests.factories import valid_tax_codes

    engine = make_engine(f"sqlite:///{folder / name}")
    upgrade(engine)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=folder / "data",
        telegram_token=TOKEN,  # type: ignore[arg-type]
    )
    with session_for(engine) as session:
        campaigns.create_campaign(
            session=session, year=2026, board_name="Ban", now=NOW, tz=ZoneInfo(settings.timezone)
        )
        enterprise = registry.add_enterprise(
            session=session, tax_code=valid_tax_codes(1)[0], name="Công ty TNHH Hoà Bình", now=NOW
        )
        codes = [
            invitations.create_invitation(
                session=session,
                role=Role.CONTACT,
                created_by="bench",
                now=NOW,
                enterprise=enterprise,
            ).code
            for _ in range(chats)
        ]
        session.commit()
    return engine, settings, codes


class TimedCore(Core):
    """Our core, timing (and when profiling, profiling) the part that runs in the worker thread."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = 0.0
        self.profile: cProfile.Profile | None = None  # set once warmed up, when profiling

    def handle(self, incoming: Incoming, *, files: Any = None) -> Result:
        """Core.handle, timed."""
        started = time.perf_counter()
        try:
            if self.profile is not None:
                return self.profile.runcall(super().handle, incoming, files=files)  # type: ignore[no-any-return]
            return super().handle(incoming, files=files)
        finally:
            self.seconds += time.perf_counter() - started


class ConversationFlow:
    """The same onboarding the PTB way: ConversationHandler states, data in chat_data, same DB."""

    CONFIRM = 1

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        threaded: bool,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.threaded = threaded
        self.profile: cProfile.Profile | None = None  # worker threads only: see _measure
        self.seconds = 0.0
        self.errors = 0

    def build(self, request: OfflineRequest, pickle_path: Path) -> Application:
        """The PTB application: the conversation plus a top-level /menu."""
        from telegram.ext import (
            CallbackQueryHandler,
            CommandHandler,
            ConversationHandler,
            PicklePersistence,
        )

        application = (
            Application.builder()
            .token(TOKEN)
            .request(request)
            .get_updates_request(request)
            .persistence(PicklePersistence(filepath=pickle_path))
            .build()
        )
        with warnings.catch_warnings():  # per_message=False with a CallbackQueryHandler is meant
            warnings.simplefilter("ignore")
            conversation = ConversationHandler(
                entry_points=[CommandHandler("start", self.start)],
                states={self.CONFIRM: [CallbackQueryHandler(self.confirm)]},
                fallbacks=[CommandHandler("menu", self.menu)],
                persistent=True,
                name="onboarding",
            )
        application.add_handler(conversation)
        application.add_handler(CommandHandler("menu", self.menu))
        application.add_error_handler(self._count_error)
        return application

    async def _work(self, function: Callable[..., T], *args: Any) -> T:
        """Runs the business work inline or in a worker thread, timing (and profiling) it."""

        def timed() -> T:
            started = time.perf_counter()
            try:
                if self.profile is not None:
                    return self.profile.runcall(function, *args)  # type: ignore[no-any-return]
                return function(*args)
            finally:
                self.seconds += time.perf_counter() - started

        return await asyncio.to_thread(timed) if self.threaded else timed()

    async def _count_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Counts what a handler raised; the run must end with none."""
        self.errors += 1
        print(f"error: {context.error!r}", file=sys.stderr)

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """/start CODE: checks the code and asks to confirm."""
        from telegram.ext import ConversationHandler

        assert update.effective_chat is not None
        code = context.args[0] if context.args else ""
        text, invitation_id, choices = await self._work(self._check, code)
        await _send(context, update.effective_chat.id, text, choices)
        if invitation_id is None:
            return ConversationHandler.END
        assert context.chat_data is not None
        context.chat_data["invitation"] = invitation_id
        return self.CONFIRM

    async def confirm(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """The yes/no button: links the chat, then says so and shows the menu."""
        from telegram import BotCommand, BotCommandScopeChat
        from telegram.ext import ConversationHandler

        from bot.channels.telegram.translate import COMMAND_TEXTS, ROLE_COMMANDS
        from bot.i18n import _, use_language

        query, chat = update.callback_query, update.effective_chat
        assert query is not None and chat is not None and context.chat_data is not None
        invitation_id = context.chat_data.pop("invitation", None)
        name = query.from_user.full_name
        replies, person = await self._work(
            self._link, str(chat.id), name, invitation_id, query.data
        )
        await _mark_chosen(update)
        for text, choices in replies:
            await _send(context, chat.id, text, choices)
        if person is not None:
            context.chat_data["person"] = person
            role = person.role
            with use_language("vi"):
                commands = [
                    BotCommand(name, _(COMMAND_TEXTS[name])) for name in ROLE_COMMANDS[role]
                ]
            await context.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat.id))
        return ConversationHandler.END

    async def menu(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """/menu: the main menu, leaving the conversation if one is open."""
        from telegram.ext import ConversationHandler

        assert update.effective_chat is not None
        assert context.chat_data is not None
        text, choices = await self._work(self._menu_for, context.chat_data.get("person"))
        await _send(context, update.effective_chat.id, text, choices)
        return ConversationHandler.END

    def _check(self, code: str) -> tuple[str, int | None, list[tuple[str, str]]]:
        """The confirm question for a valid code, or why it is not valid."""
        from bot.flows.menu import role_name
        from bot.i18n import _, use_language
        from storage import invitations
        from storage.engine import session_for

        with session_for(self.engine) as session, use_language("vi"):
            status, invite = invitations.check_invitation(
                conn=session.connection(), code=code, now=NOW
            )
            if status != invitations.Redemption.OK or invite is None:
                return _("This invitation code is not valid."), None, []
            target = _("%(enterprise)s (tax code %(tax)s), as its %(role)s") % {
                "enterprise": invite.enterprise_name,
                "tax": invite.tax_code,
                "role": role_name(invite.role),
            }
            text = _("This chat will be linked to:\n%(target)s\nIs that right?") % {
                "target": target
            }
            choices = [("confirm:yes", _("Yes, link it")), ("confirm:no", _("No, cancel"))]
            return text, invite.id, choices

    def _link(
        self, chat_id: str, name: str, invitation_id: int | None, data: str | None
    ) -> tuple[list[tuple[str, list[tuple[str, str]]]], Person | None]:
        """Uses the invitation, creates the contact, links the chat and audits it, in one commit."""
        from bot.i18n import _, use_language
        from storage import invitations
        from storage.engine import session_for

        with session_for(self.engine) as session, use_language("vi"):
            if data != "confirm:yes" or invitation_id is None:
                return [(_("Cancelled. This chat was not linked."), [])], None
            person = invitations.redeem(
                conn=session.connection(),
                invitation_id=invitation_id,
                name=name,
                channel="telegram",
                chat_id=chat_id,
                now=NOW,
            )
            if person is None:
                return [(_("This invitation can no longer be used."), [])], None
            linked = _("Done: this chat is now linked. Welcome, %(name)s.") % {"name": name}
            text, choices = self._menu(session, person)
            session.commit()
            return [(f"{linked}\n\n{text}", choices)], person  # one message, as ours sends

    def _menu_for(self, person: Person | None) -> tuple[str, list[tuple[str, str]]]:
        """The menu of the person this chat was linked to (kept in chat_data, the PTB way)."""
        from bot.i18n import _, use_language
        from storage.engine import session_for

        with session_for(self.engine) as session, use_language("vi"):
            if person is None:
                return _("This chat is not linked to any enterprise yet."), []
            return self._menu(session, person)

    def _menu(self, session: Any, person: Person) -> tuple[str, list[tuple[str, str]]]:
        """The same lines and buttons as bot.flows.menu.show_menu, for a contact."""
        from bot.flows.menu import role_name
        from bot.i18n import _, fmt_date, last_moment
        from bot.texts.milestones import deadline_words, milestone_name
        from storage import campaigns

        tz = self.settings.tz
        lines = [
            _("Main menu — %(name)s (%(role)s)")
            % {"name": person.full_name, "role": role_name(person.role)}
        ]
        if person.enterprise_name is not None:
            lines.append(
                _("Enterprise: %(name)s, tax code %(tax)s")
                % {"name": person.enterprise_name, "tax": person.tax_code}
            )
        choices: list[tuple[str, str]] = []
        schedule = campaigns.schedule(conn=session.connection(), enterprise_id=person.enterprise_id)
        if schedule is not None:
            lines.append(_("Emulation campaign %(year)s:") % {"year": schedule.year})
            for kind, due in sorted(schedule.dues.items(), key=lambda item: item[1]):
                name = milestone_name(kind)
                lines.append(f"• {name}: {deadline_words(due, NOW, tz)}")
                if NOW < due:
                    label = _("%(name)s — due %(date)s") % {
                        "name": name,
                        "date": fmt_date(last_moment(due), tz),
                    }
                    choices.append((f"ms:{kind}", label))
        choices.append(("help", _("Help")))
        return "\n".join(lines), choices


async def _send(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str, choices: list[tuple[str, str]]
) -> None:
    """One message, one button per row, as our channel sends them."""
    markup = (
        InlineKeyboardMarkup(
            [[InlineKeyboardButton(label[:64], callback_data=key)] for key, label in choices]
        )
        if choices
        else None
    )
    await context.bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)


async def _mark_chosen(update: Update) -> None:
    """Answers the press and shows the chosen label under the question, the usual PTB way."""
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    await query.answer()
    markup = query.message.reply_markup
    assert markup is not None
    label = next(
        b.text for row in markup.inline_keyboard for b in row if b.callback_data == query.data
    )
    await query.edit_message_text(f"{query.message.text}\n\n→ {label}")


class Driver:
    """Feeds one chat's three updates to an Application, as Telegram would deliver them."""

    def __init__(self, application: Application, request: OfflineRequest, *, decoded: bool) -> None:
        self.application = application
        self.request = request
        self.decoded = decoded  # PTB's Update objects (the ConversationHandler), or the JSON
        self.update_id = 0
        self.message_id = 0

    async def chat(self, index: int, code: str, samples: list[tuple[int, float]] | None) -> None:
        """/start CODE, the "yes" button our bot offered this chat, then /menu; each timed."""
        chat_id = FIRST_CHAT + index
        await self._feed(0, self._command(chat_id, f"/start {code}"), samples)
        confirm = self.request.keyboards.pop(chat_id)  # the confirm message, buttons and all
        buttons = [b for row in confirm["reply_markup"]["inline_keyboard"] for b in row]
        data = next(b["callback_data"] for b in buttons if b["callback_data"].endswith(":yes"))
        await self._feed(1, self._press(chat_id, confirm, data), samples)
        await self._feed(2, self._command(chat_id, "/menu"), samples)

    async def _feed(
        self, kind: int, payload: dict[str, Any], samples: list[tuple[int, float]] | None
    ) -> None:
        """Hands the update to the Application as each stack reads it (ours: Telegram's JSON;
        the ConversationHandler: decoded into PTB's objects), timing both."""
        self.update_id += 1
        payload["update_id"] = self.update_id
        started = time.perf_counter()
        update = (
            Update.de_json(payload, self.application.bot) if self.decoded else Delivery(payload)
        )
        await self.application.process_update(update)
        if samples is not None:
            samples.append((kind, time.perf_counter() - started))

    def _user(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "An", "language_code": "vi"}

    def _command(self, chat_id: int, text: str) -> dict[str, Any]:
        """A private text message whose command carries the bot_command entity."""
        self.message_id += 1
        length = len(text.split(maxsplit=1)[0])
        return {
            "message": {
                "message_id": self.message_id,
                "from": self._user(chat_id),
                "chat": {"id": chat_id, "type": "private", "first_name": "An"},
                "date": int(time.time()),
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": length}],
            }
        }

    def _press(self, chat_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        """A press on a button of the bot's message."""
        return {
            "callback_query": {
                "id": f"{chat_id}{self.update_id}",
                "from": self._user(chat_id),
                "message": message,
                "chat_instance": str(chat_id),
                "data": data,
            }
        }


def child(variant: str, chats: int, warmup: int, profile_dir: str | None) -> None:
    """Runs one variant in this (fresh) process, pinned to one core; prints its figures as JSON."""
    os.sched_setaffinity(0, {0})
    with tempfile.TemporaryDirectory() as folder:
        engine, settings, codes = _prepare(Path(folder), f"{variant}.sqlite3", warmup + chats)
        loop_profile = cProfile.Profile() if profile_dir else None
        work_profile = cProfile.Profile() if profile_dir else None
        with WalCheckpointer(engine):  # as `thidua run` serves Telegram
            figures = asyncio.run(
                _measure(
                    variant, engine, settings, codes, warmup, Path(folder), loop_profile,
                    work_profile,
                )
            )  # fmt: skip
        if profile_dir and loop_profile and work_profile:
            loop_profile.dump_stats(Path(profile_dir) / f"{variant}-loop.prof")
            work_profile.dump_stats(Path(profile_dir) / f"{variant}-work.prof")
        _check_linked(engine, len(codes))
    print(json.dumps(figures))


async def _measure(
    variant: str,
    engine: Engine,
    settings: Settings,
    codes: list[str],
    warmup: int,
    folder: Path,
    loop_profile: cProfile.Profile | None,
    work_profile: cProfile.Profile | None,
) -> dict[str, Any]:
    """Warms up, then times every update; returns throughput, percentiles and call counts."""
    from bot.channels.telegram.application import build_application
    from bot.channels.telegram.translate import stats
    from bot.compose import FLOWS

    request = OfflineRequest()
    flow: TimedCore | ConversationFlow
    if variant == "ours":
        flow = TimedCore(engine=engine, settings=settings, flows=FLOWS, clock=lambda: NOW)
        application = build_application(settings, flow, request=request, rate_limited=False)
    else:
        flow = ConversationFlow(engine, settings, threaded=variant == "ch-thread")
        application = flow.build(request, folder / "ch.pickle")
    samples: list[tuple[int, float]] = []
    async with application:
        await application.start()  # no updater: updates are fed to process_update directly
        driver = Driver(application, request, decoded=variant != "ours")
        for index in range(warmup):
            await driver.chat(index, codes[index], None)
        request.calls.clear()
        flow.seconds = 0.0
        if loop_profile is not None:  # inline work shows in the loop's profile: one per thread
            flow.profile = work_profile if variant != "ch-inline" else None
            loop_profile.enable()
        started = time.perf_counter()
        for index in range(warmup, len(codes)):
            await driver.chat(index, codes[index], samples)
        elapsed = time.perf_counter() - started
        if loop_profile is not None:
            loop_profile.disable()
        stopping = time.perf_counter()
        await application.stop()
    shutdown = time.perf_counter() - stopping  # includes PicklePersistence's final write
    errors = flow.errors if isinstance(flow, ConversationFlow) else stats["errors"]
    assert errors == 0, f"{errors} updates failed"
    everything = [seconds for _kind, seconds in samples]
    return {
        "updates": len(samples),
        "seconds": elapsed,
        "work_seconds": flow.seconds,
        "shutdown_seconds": shutdown,
        "all": _percentiles(everything),
        "kinds": {
            name: _percentiles([s for k, s in samples if k == kind])
            for kind, name in enumerate(KINDS)
        },
        "calls": dict(request.calls),
        "chats": len(codes) - warmup,
        "cpus": sorted(os.sched_getaffinity(0)),
    }


def _percentiles(seconds: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p99": cuts[98] * 1000, "max": max(seconds) * 1000}


def _check_linked(engine: Engine, expected: int) -> None:
    """Every chat really was linked: the flow ran, not just the timer."""
    from sqlalchemy import func
    from sqlmodel import select

    from storage.engine import session_for
    from storage.models import ChatLink

    with session_for(engine) as session:
        linked = session.exec(select(func.count()).select_from(ChatLink)).one()
    assert linked == expected, f"{linked} of {expected} chats linked"


def _run(variant: str, chats: int, warmup: int) -> dict[str, Any]:
    """One variant in a fresh child process."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.updates",
            "--child",
            variant,
            "--chats",
            str(chats),
            "--warmup",
            str(warmup),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _rate(figures: dict[str, Any]) -> float:
    return float(figures["updates"] / figures["seconds"])


def main(chats: int = CHATS, warmup: int = WARMUP, repeats: int = REPEATS) -> None:
    """Runs the three variants, each ``repeats`` times, and prints the median runs' rows.

    The runs alternate between variants, so a slow moment of this (shared) machine does not
    fall on one variant only.
    """
    runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
    for _ in range(repeats):
        for variant in VARIANTS:
            runs[variant].append(_run(variant, chats, warmup))
    results = {v: sorted(r, key=_rate)[len(r) // 2] for v, r in runs.items()}
    ours = results["ours"]
    print(
        f"\nTelegram updates: {chats:,} chats × 3 updates ({', '.join(KINDS)}) ="
        f" {ours['updates']:,} timed updates after {warmup} warm-up chats; one core (child pinned"
        f" to CPU {ours['cpus'][0]}); SQLite; Bot API answered in memory (network excluded);"
        f" the median of {repeats} runs per variant, all runs' range in brackets."
        "\nTargets: ours ≥ 1,000 updates/s; ours p99 ≤ 1.5 × the ConversationHandler's p99."
    )
    print("| variant | updates | time (s) | updates/s | p50 (ms) | p99 (ms) | Bot API calls |")
    print("|---|---|---|---|---|---|---|")
    for variant, label in VARIANTS.items():
        figures = results[variant]
        calls = sum(figures["calls"].values())
        rates = sorted(_rate(run) for run in runs[variant])
        print(
            f"| {label} | {figures['updates']:,} | {figures['seconds']:.2f} |"
            f" {_rate(figures):,.0f} [{rates[0]:,.0f}–{rates[-1]:,.0f}] |"
            f" {figures['all']['p50']:.2f} | {figures['all']['p99']:.2f} | {calls:,} |"
        )
    for variant in ("ch-thread", "ch-inline"):
        ratio = ours["all"]["p99"] / results[variant]["all"]["p99"]
        how = "DB work off the loop, like ours" if variant == "ch-thread" else "inline"
        print(
            f"| ours p99 / ConversationHandler p99 ({how}) | | | | | {ratio:.2f}× (target ≤ 1.5×)"
            " | |"
        )
    print(
        "\n| variant | "
        + " | ".join(f"{kind} p50 / p99 (ms)" for kind in KINDS)
        + " | flow + DB work share | shutdown (s) |"
    )
    print("|---|" + "---|" * (len(KINDS) + 2))
    for variant, label in VARIANTS.items():
        figures = results[variant]
        per_kind = " | ".join(
            f"{figures['kinds'][kind]['p50']:.2f} / {figures['kinds'][kind]['p99']:.2f}"
            for kind in KINDS
        )
        share = figures["work_seconds"] / figures["seconds"]
        print(f"| {label} | {per_kind} | {share:.0%} | {figures['shutdown_seconds']:.2f} |")
    stall = max(results[v]["shutdown_seconds"] for v in ("ch-thread", "ch-inline"))
    print(
        "\nTimed per update: reading the update (ours: the JSON as it came; the"
        " ConversationHandler: Update.de_json) + Application.process_update, including the Bot API"
        " calls' request encoding and reply decoding. Our conversation state is committed to"
        " SQLite within every update. PicklePersistence instead writes from the event loop every"
        " 60 s (PTB's default), rewriting the whole file once per changed chat: for this run's"
        f" chats that took up to {stall:.1f} s at shutdown, outside the timed updates; a run"
        " longer than 60 s would see such a stall in the ConversationHandler's tail."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.updates")
    parser.add_argument("--child", choices=sorted(VARIANTS))
    parser.add_argument("--chats", type=int, default=CHATS)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--profile", metavar="DIR", help="with --child: dump cProfile stats here")
    cli = parser.parse_args()
    if cli.child:
        child(cli.child, cli.chats, cli.warmup, cli.profile)
    else:
        main(cli.chats, cli.warmup, cli.repeats)
