"""A fake Telegram Bot API server on 127.0.0.1, so the real python-telegram-bot talks HTTP to it.

Build the application against it with::

    fake = FakeTelegram(); fake.start()
    app = (Application.builder().token(fake.token)
           .base_url(fake.base_url).base_file_url(fake.file_url).build())

Everything the bot sends is recorded in ``fake.calls``; updates for long polling are queued
with ``fake.push_update(fake.message_update(chat_id, "/start"))``. Stdlib only.

Worth knowing:
* the ``*_update`` builders only build; ``push_update`` queues and gives the update_id;
* a call is logged once it has been answered, so a long poll shows up when it returns, and a
  poll PTB abandoned on shutdown is logged as 409 "terminated by other getUpdates request";
* like Telegram, it refuses some things (over-long text, callback_data over 64 bytes, edits
  that change nothing, unknown callback ids); PTB turns "Bad Request: X_Y" into "X_y";
* stop the Application before the fake, or PTB logs connection errors while it shuts down.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import PurePosixPath
from typing import Any, Self

DEFAULT_TOKEN = "123456:TEST-token"
BOT_USERNAME = "thidua_test_bot"
DEFAULT_GROUP_USER_ID = 1001
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # getFile refuses bigger files, like the real Bot API
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

# Parameters whose form value is a plain string even when it looks like JSON ("123", "true").
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "url",
        "secret_token", "language_code", "file_id", "action", "ip_address", "title",
        "description", "short_description", "name", "emoji", "business_connection_id",
        "message_effect_id", "document", "photo", "audio", "video", "voice", "sticker",
        "animation", "video_note", "thumbnail", "certificate", "query", "switch_pm_text",
    }
)  # fmt: skip
_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "url", "callback_data", "web_app", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
        "callback_game", "pay",
    }
)  # fmt: skip
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_API_PATH_RE = re.compile(r"/bot([^/]+)/([A-Za-z]+)/?")
_FILE_PATH_RE = re.compile(r"/file/bot([^/]+)/(.+)")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a specified content and reply markup of the current message"
)


def _any_call(_call: Call) -> bool:
    """Default predicate: every call matches."""
    return True


@dataclass(frozen=True)
class Call:
    """One request the bot made, as the fake understood it and answered it."""

    method: str
    params: dict[str, Any]  # form values, JSON-decoded except for known string fields
    files: dict[str, bytes] = field(default_factory=dict)  # multipart part name -> bytes
    at: float = 0.0  # time.monotonic() when the request arrived
    file_names: dict[str, str] = field(default_factory=dict)  # part name -> uploaded file name
    raw: dict[str, str] = field(default_factory=dict)  # form values exactly as sent
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)  # the JSON body the fake answered


@dataclass
class FakeFile:
    """A file the fake can hand out through getFile and the file download URL."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int = 0  # what Telegram reports; may differ from len(content) on purpose


class _ApiError(Exception):
    """An error answer of the Bot API, raised inside method handlers."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _bad_request(what: str) -> _ApiError:
    """A 400 with Telegram's "Bad Request: ..." wording."""
    return _ApiError(400, f"Bad Request: {what}")


def _utf16_len(text: str) -> int:
    """Telegram measures text lengths and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _visible_text(text: str, parse_mode: str | None) -> str | None:
    """The text a user would see, or None when we cannot tell (Markdown)."""
    if not parse_mode:
        return text
    if parse_mode.lower() == "html":
        return html.unescape(re.sub(r"<[^>]*>", "", text))
    return None


def _decode_params(raw: dict[str, str]) -> dict[str, Any]:
    """Form values are strings; numbers, booleans and nested objects arrive JSON-encoded."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _STRING_PARAMS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _unescape_form_param(value: str) -> str:
    """Undo the HTML5 form escaping httpx applies to multipart names and file names."""
    value = re.sub(r"%(1[0-9A-F]|0[0-9A-F]|22)", lambda m: chr(int(m.group(1), 16)), value)
    return value.replace("\\\\", "\\")


def _disposition_params(header: str) -> dict[str, str]:
    """Parameters of a Content-Disposition header (name, filename, filename*)."""
    found: dict[str, str] = {}
    pattern = r';\s*([\w*]+)=(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))'
    for match in re.finditer(pattern, header):
        key, quoted, bare = match.group(1).lower(), match.group(2), match.group(3)
        found[key] = _unescape_form_param(quoted) if quoted is not None else bare
    if "filename*" in found:
        _charset, _, encoded = found["filename*"].partition("''")
        found["filename"] = urllib.parse.unquote(encoded)
    return found


@dataclass
class _Upload:
    """One file part of a multipart body."""

    content: bytes
    file_name: str
    mime_type: str | None


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, _Upload]]:
    """Split multipart/form-data by hand so binary parts come back byte for byte."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise _bad_request("multipart body without boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    uploads: dict[str, _Upload] = {}
    for section in body.split(delimiter)[1:]:
        if section.startswith(b"--"):
            break
        head, _, content = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = _disposition_params(headers.get("content-disposition", ""))
        part_name = disposition.get("name", "")
        if "filename" in disposition:
            uploads[part_name] = _Upload(
                content, disposition["filename"], headers.get("content-type")
            )
        else:
            fields[part_name] = content.decode("utf-8")
    return fields, uploads


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that names, tracks and can cut its connection threads."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, fake: FakeTelegram, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.fake = fake
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._conn_threads: list[threading.Thread] = []
        self._closing = False

    def process_request(self, request: Any, client_address: Any) -> None:
        """Like ThreadingMixIn, but with named threads we can join in stop()."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"fake-telegram-conn-{len(self._conn_threads) + 1}",
            daemon=True,
        )
        with self._conn_lock:
            self._conn_threads = [t for t in self._conn_threads if t.is_alive()]
            self._conn_threads.append(thread)
        thread.start()

    def track(self, conn: socket.socket) -> None:
        """Remember an open connection so stop() can end keep-alive reads."""
        with self._conn_lock:
            self._connections.add(conn)
            if self._closing:
                _shutdown_quietly(conn)

    def untrack(self, conn: socket.socket) -> None:
        """Forget a connection once its handler is done with it."""
        with self._conn_lock:
            self._connections.discard(conn)

    def cut_connections(self) -> None:
        """Shut every open connection so idle keep-alive handler threads return."""
        with self._conn_lock:
            self._closing = True
            for conn in self._connections:
                _shutdown_quietly(conn)

    def join_threads(self, timeout: float) -> None:
        """Wait for connection threads so tests leave no threads behind."""
        deadline = time.monotonic() + timeout
        with self._conn_lock:
            threads = list(self._conn_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (cancelled long polls) are normal; other errors are kept."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return
        self.fake.server_errors.append(repr(exc))


def _shutdown_quietly(conn: socket.socket) -> None:
    """socket.shutdown that ignores already-closed sockets."""
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into FakeTelegram._route calls."""

    protocol_version = "HTTP/1.1"  # keep-alive, like api.telegram.org
    timeout = 30  # safety net for idle keep-alive connections
    server: _Server

    def setup(self) -> None:
        """Register the connection; no Nagle delay between the header and body writes."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        """Unregister the connection."""
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the call log is the useful record."""

    def do_GET(self) -> None:
        """Bot API methods also accept GET with a query string; file downloads are GET."""
        self._serve("GET")

    def do_POST(self) -> None:
        """Bot API methods, form-encoded, multipart or JSON."""
        self._serve("POST")

    def _read_body(self) -> bytes:
        """Read a Content-Length or chunked body so keep-alive stays in sync."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self, verb: str) -> None:
        """Route one request and write the answer, tolerating clients that went away."""
        fake = self.server.fake
        fake._enter_request()
        try:
            body = self._read_body()
            cut = fake._take_drop(self.path)
            if cut == "before":  # a network cut: the connection closes unanswered
                self.close_connection = True
                return
            status, content_type, payload = fake._route(
                verb, self.path, self.headers.get("Content-Type", ""), body
            )
            if cut == "during":  # handled, then the answer breaks off halfway
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
            except OSError:
                self.close_connection = True
        finally:
            fake._leave_request()


class FakeTelegram:
    """In-process stand-in for api.telegram.org that records calls and feeds updates."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = "Thi đua (test)",
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.calls: list[Call] = []
        self.downloads: list[str] = []  # file paths served through the file URL
        self.server_errors: list[str] = []  # bugs in the fake itself; tests may assert empty
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.chats: dict[int | str, dict[str, Any]] = {}
        self.messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self.files: dict[str, FakeFile] = {}
        self._cond = threading.Condition()  # guards all state; wakes waiters and long polls
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._next_message_id: dict[int | str, int] = {}
        self._next_file_number = 1
        self._next_callback_id = 1
        self._callback_ids: set[str] = set()
        self._blocked: set[int | str] = set()
        self._slow: dict[int | str, float] = {}
        self._slow_files = 0.0  # seconds each file download waits (a slow network)
        # method (lower) -> [retry_after, ...]; None lets one call through
        self._rate_limits: dict[str, list[int | None]] = {}
        self._drops: dict[str, list[str]] = {}  # method -> cuts to come: "before", "during"
        self._poll_generation = 0
        self._active_requests = 0
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._running = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._handlers: dict[str, Callable[[dict[str, Any], dict[str, _Upload]], Any]] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "senddocument": self._send_document,
            "getfile": self._get_file,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getmycommands": self._get_my_commands,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
        }

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("FakeTelegram is already running")
        self._server = _Server(self, ("127.0.0.1", 0))
        with self._cond:
            self._running = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-telegram-server",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Answer pending long polls, close every connection and join every thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        with self._cond:
            self._running = False
            self._cond.notify_all()
            self._wake_async_waiters()
            self._cond.wait_for(lambda: self._active_requests == 0, timeout=2.0)
        server.shutdown()
        thread.join()
        server.cut_connections()
        server.server_close()
        server.join_threads(timeout=5.0)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        """Start on entering a with block."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop on leaving a with block, even after a failure."""
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._server is None:
            raise RuntimeError("FakeTelegram is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What to pass to ApplicationBuilder.base_url()."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        """What to pass to ApplicationBuilder.base_file_url()."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ----------------------------------------------------------------- call log

    def calls_to(self, method: str) -> list[Call]:
        """Calls to one Bot API method (method names are case-insensitive, as in Telegram)."""
        with self._cond:
            return [c for c in self.calls if c.method.lower() == method.lower()]

    def clear_calls(self) -> None:
        """Forget the call log, e.g. after the start-up getMe/deleteWebhook noise."""
        with self._cond:
            self.calls.clear()

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = _any_call,
        timeout: float = 10.0,
        count: int = 1,
    ) -> list[Call]:
        """Block until `count` matching calls were seen; returns all matching calls so far."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matched = self._matching(method, predicate)
                if len(matched) >= count:
                    return matched
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._running:
                    raise AssertionError(self._wait_failure(method, count, matched, timeout))
                self._cond.wait(remaining)

    async def await_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = _any_call,
        timeout: float = 10.0,
        count: int = 1,
    ) -> list[Call]:
        """wait_for for async tests: sleeps on an asyncio.Event so the bot's loop keeps going."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        deadline = loop.time() + timeout
        with self._cond:
            self._async_waiters.append(waiter)
        try:
            while True:
                event.clear()
                with self._cond:
                    matched = self._matching(method, predicate)
                    if len(matched) >= count:
                        return matched
                    remaining = deadline - loop.time()
                    if remaining <= 0 or not self._running:
                        raise AssertionError(self._wait_failure(method, count, matched, timeout))
                try:
                    await asyncio.wait_for(event.wait(), remaining)
                except TimeoutError:
                    pass
        finally:
            with self._cond:
                self._async_waiters.remove(waiter)

    def _matching(self, method: str, predicate: Callable[[Call], bool]) -> list[Call]:
        """Calls to `method` accepted by `predicate`; caller holds the lock."""
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted and predicate(c)]

    def _wait_failure(self, method: str, count: int, matched: list[Call], timeout: float) -> str:
        """An assertion message that shows what the bot did instead."""
        state = "within" if self._running else "before the server stopped, waited up to"
        lines = [
            f"expected {count} matching {method} call(s) {state} {timeout}s, "
            f"saw {len(matched)}; calls so far:"
        ]
        for call in self.calls[-50:]:
            shown = {k: v for k, v in call.params.items() if k != "reply_markup"}
            lines.append(f"  {call.method} -> {call.status} {shown}")
        return "\n".join(lines)

    def _wake_async_waiters(self) -> None:
        """Poke every await_for; caller holds the lock."""
        for loop, event in self._async_waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed; its waiter is gone for good
                pass

    def _record(self, call: Call) -> None:
        """Append to the log and wake everyone waiting on it."""
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()
            self._wake_async_waiters()

    # ----------------------------------------------------------------- updates

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; assigns an increasing update_id when missing."""
        with self._cond:
            update_id = self._claim_update_id(update)
            self._remember_update(update)
            self._updates.append(update)
            self._cond.notify_all()
            return update_id

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by an offset."""
        with self._cond:
            return list(self._updates)

    def _claim_update_id(self, update: dict[str, Any]) -> int:
        """Give the update an id (or accept its own) and keep ids increasing."""
        with self._cond:
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            update_id = int(update["update_id"])
            self._next_update_id = max(self._next_update_id, update_id + 1)
            return update_id

    def _remember_update(self, update: dict[str, Any]) -> None:
        """Learn chats, messages and callback ids from an incoming update; caller holds the lock."""
        keys = ("message", "edited_message", "channel_post", "edited_channel_post")
        messages = [update.get(key) for key in keys]
        callback = update.get("callback_query")
        if callback:
            self._callback_ids.add(str(callback["id"]))
            messages.append(callback.get("message"))
        for message in messages:
            if not message:
                continue
            chat = message["chat"]
            self.chats.setdefault(chat["id"], chat)
            key = (chat["id"], int(message["message_id"]))
            self.messages.setdefault(key, json.loads(json.dumps(message)))

    def _user(self, user_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
        """A human Telegram user object."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        return user

    def _chat(
        self, chat_id: int, chat_type: str = "private", first_name: str = "An"
    ) -> dict[str, Any]:
        """A chat object of the given type."""
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": first_name}
        return {"id": chat_id, "type": chat_type, "title": "Nhóm thi đua"}

    def _claim_message_id(self, chat_id: int | str) -> int:
        """Message ids increase per chat and are shared by the user's and the bot's messages."""
        with self._cond:
            message_id = self._next_message_id.get(chat_id, 1)
            self._next_message_id[chat_id] = message_id + 1
            return message_id

    def _incoming(
        self,
        chat_id: int,
        *,
        user_id: int | None,
        language_code: str | None,
        first_name: str = "An",
        chat_type: str = "private",
    ) -> dict[str, Any]:
        """The common skeleton of a message a user sends."""
        if user_id is None:
            user_id = chat_id if chat_type == "private" else DEFAULT_GROUP_USER_ID
        return {
            "message_id": self._claim_message_id(chat_id),
            "from": self._user(user_id, first_name, language_code),
            "chat": self._chat(chat_id, chat_type, first_name),
            "date": int(time.time()),
        }

    def message_update(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "vi",
        first_name: str = "An",
        chat_type: str = "private",
        entities_for_commands: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        """A text message update; "/cmd ..." gets the bot_command entity PTB's filters need."""
        message = self._incoming(
            chat_id,
            user_id=user_id,
            language_code=language_code,
            first_name=first_name,
            chat_type=chat_type,
        )
        message["text"] = text
        if entities_for_commands and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        message.update(extra)
        return {"message": message}

    def group_message_update(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int = DEFAULT_GROUP_USER_ID,
        language_code: str | None = "vi",
        first_name: str = "An",
        **extra: Any,
    ) -> dict[str, Any]:
        """A text message in a basic group (negative chat id), for "private chat only" checks."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        return self.message_update(
            chat_id,
            text,
            user_id=user_id,
            language_code=language_code,
            first_name=first_name,
            chat_type="group",
            **extra,
        )

    def edited_message_update(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "vi",
    ) -> dict[str, Any]:
        """A user editing an earlier message; bots usually must ignore these."""
        uid = chat_id if user_id is None else user_id
        now = int(time.time())
        return {
            "edited_message": {
                "message_id": message_id,
                "from": self._user(uid, "An", language_code),
                "chat": self._chat(chat_id),
                "date": now - 60,
                "edit_date": now,
                "text": text,
            }
        }

    def callback_update(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int,
        message_text: str = "…",
        user_id: int | None = None,
        language_code: str | None = "vi",
    ) -> dict[str, Any]:
        """A press on an inline button of the bot's message `message_id`."""
        uid = chat_id if user_id is None else user_id
        with self._cond:
            callback_id = f"{self.bot_id}{self._next_callback_id:08d}"
            self._next_callback_id += 1
            known = self.messages.get((chat_id, message_id))
            message = (
                json.loads(json.dumps(known))
                if known
                else {
                    "message_id": message_id,
                    "from": self.bot_user,
                    "chat": self._chat_for(chat_id),
                    "date": int(time.time()) - 5,
                    "text": message_text,
                }
            )
        return {
            "callback_query": {
                "id": callback_id,
                "from": self._user(uid, "An", language_code),
                "message": message,
                "chat_instance": f"-{abs(chat_id)}{self.bot_id}",
                "data": data,
            }
        }

    def document_update(
        self,
        chat_id: int,
        *,
        content: bytes,
        file_name: str,
        mime_type: str,
        user_id: int | None = None,
        file_size: int | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        """A user sending a file; its bytes become downloadable through getFile."""
        stored = self.add_file(
            content, file_name=file_name, mime_type=mime_type, file_size=file_size
        )
        message = self._incoming(chat_id, user_id=user_id, language_code="vi")
        message["document"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": stored.file_size,
        }
        if caption is not None:
            message["caption"] = caption
        return {"message": message}

    def photo_update(
        self,
        chat_id: int,
        *,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        caption: str | None = None,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """A user sending a photo (two sizes, as Telegram does)."""
        small = self.add_file(content[:64], folder="photos", file_name="small.jpg")
        large = self.add_file(content, folder="photos", file_name="large.jpg")
        message = self._incoming(chat_id, user_id=user_id, language_code="vi")
        message["photo"] = [
            {
                "file_id": f.file_id,
                "file_unique_id": f.file_unique_id,
                "width": side,
                "height": side,
                "file_size": f.file_size,
            }
            for f, side in ((small, 90), (large, 1280))
        ]
        if caption is not None:
            message["caption"] = caption
        return {"message": message}

    def voice_update(
        self,
        chat_id: int,
        *,
        content: bytes = b"OggS\x00fake-opus",
        duration: int = 3,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """A user sending a voice note."""
        stored = self.add_file(content, folder="voice", file_name="voice.oga")
        message = self._incoming(chat_id, user_id=user_id, language_code="vi")
        message["voice"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.file_size,
        }
        return {"message": message}

    def sticker_update(
        self, chat_id: int, *, emoji: str = "👍", user_id: int | None = None
    ) -> dict[str, Any]:
        """A user sending a sticker."""
        stored = self.add_file(b"RIFF\x00\x00\x00\x00WEBP", folder="stickers", file_name="s.webp")
        message = self._incoming(chat_id, user_id=user_id, language_code="vi")
        message["sticker"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.file_size,
        }
        return {"message": message}

    # ----------------------------------------------------------------- files

    def add_file(
        self,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        file_size: int | None = None,
        folder: str = "documents",
    ) -> FakeFile:
        """Store bytes under a new file_id, as if Telegram already had the file."""
        with self._cond:
            number = self._next_file_number
            self._next_file_number += 1
            suffix = PurePosixPath(file_name).suffix if file_name else ""
            stored = FakeFile(
                file_id=f"BQACAgIAAxkBAAI{number:06d}-fake-{folder}",
                file_unique_id=f"AgAD{number:06d}",
                content=content,
                file_path=f"{folder}/file_{number}{suffix}",
                file_name=file_name,
                mime_type=mime_type,
                file_size=len(content) if file_size is None else file_size,
            )
            self.files[stored.file_id] = stored
            return stored

    def file_content(self, file_id: str) -> bytes:
        """Bytes behind a file_id (uploaded by the bot or registered by a test)."""
        with self._cond:
            return self.files[file_id].content

    # ----------------------------------------------------------------- messages

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """Current state (after edits) of a message in a chat."""
        with self._cond:
            found = self.messages.get((chat_id, message_id))
            return json.loads(json.dumps(found)) if found else None

    def sent_messages(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Current state of what the bot sent, oldest first, optionally for one chat."""
        with self._cond:
            return [
                json.loads(json.dumps(m))
                for (cid, _mid), m in self.messages.items()
                if m.get("from", {}).get("id") == self.bot_id and chat_id in (None, cid)
            ]

    # ----------------------------------------------------------------- failure injection

    def block_chat(self, chat_id: int) -> None:
        """From now on the chat answers 403, as if the user blocked the bot."""
        with self._cond:
            self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        """Undo block_chat."""
        with self._cond:
            self._blocked.discard(chat_id)

    def slow_chat(self, chat_id: int, seconds: float) -> None:
        """From now on calls about this chat are answered ``seconds`` late (a slow network)."""
        with self._cond:
            self._slow[chat_id] = seconds

    def slow_downloads(self, seconds: float) -> None:
        """From now on file downloads are answered ``seconds`` late."""
        self._slow_files = seconds

    def rate_limit_next(
        self, method: str, retry_after: int = 1, times: int = 1, *, after: int = 0
    ) -> None:
        """After `after` more calls to `method`, the next `times` answer 429 with retry_after."""
        with self._cond:
            queue = self._rate_limits.setdefault(method.lower(), [])
            queue.extend([None] * after + [retry_after] * times)

    def drop_next(self, method: str, times: int = 1, *, answered: bool = False) -> None:
        """The next `times` calls to `method` have their connection cut, as the network does:
        before Telegram took them (not recorded), or ``answered``: handled and recorded, the
        answer breaking off halfway."""
        with self._cond:
            cuts = self._drops.setdefault(method.lower(), [])
            cuts.extend(["during" if answered else "before"] * times)

    def _take_drop(self, raw_path: str) -> str | None:
        """How this call is to be cut, if it is ("before", "during"; counting it off)."""
        found = _API_PATH_RE.fullmatch(urllib.parse.unquote(urllib.parse.urlsplit(raw_path).path))
        if found is None:
            return None
        with self._cond:
            cuts = self._drops.get(found.group(2).lower())
            return cuts.pop(0) if cuts else None

    # ----------------------------------------------------------------- webhook helpers

    def post_to_webhook(self, url: str, update: dict[str, Any], secret_token: str | None) -> int:
        """POST an update like Telegram's webhook delivery; returns the HTTP status.

        Blocking: from a test running on the bot's event loop use apost_to_webhook instead.
        """
        self._claim_update_id(update)
        with self._cond:
            self._remember_update(update)
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        request = urllib.request.Request(
            url, data=json.dumps(update).encode(), headers=headers, method="POST"
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    async def apost_to_webhook(
        self, url: str, update: dict[str, Any], secret_token: str | None
    ) -> int:
        """post_to_webhook off the event loop, so the bot's webhook server can answer."""
        return await asyncio.to_thread(self.post_to_webhook, url, update, secret_token)

    # ----------------------------------------------------------------- HTTP routing

    def _enter_request(self) -> None:
        """Count in-flight requests so stop() can let them answer first."""
        with self._cond:
            self._active_requests += 1

    def _leave_request(self) -> None:
        """Counterpart of _enter_request."""
        with self._cond:
            self._active_requests -= 1
            self._cond.notify_all()

    def _route(
        self, verb: str, raw_path: str, content_type: str, body: bytes
    ) -> tuple[int, str, bytes]:
        """Answer one HTTP request: (status, content type, body)."""
        split = urllib.parse.urlsplit(raw_path)
        path = urllib.parse.unquote(split.path)
        file_match = _FILE_PATH_RE.fullmatch(path)
        if verb == "GET" and file_match:
            return self._download(file_match.group(1), file_match.group(2))
        api_match = _API_PATH_RE.fullmatch(path)
        if not api_match:
            return self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        token, method = api_match.groups()
        at = time.monotonic()
        raw: dict[str, str] = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        uploads: dict[str, _Upload] = {}
        params: dict[str, Any] = {}
        try:
            raw, params, uploads = self._parse_body(raw, content_type, body)
            status, answer = self._dispatch(token, method, params, uploads)
        except _ApiError as exc:
            status, answer = exc.code, self._error_body(exc)
        except ValueError as exc:  # undecodable body
            status, answer = 400, self._error_body(_bad_request(f"can't parse body: {exc}"))
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test
            self.server_errors.append(f"{method}: {exc!r}")
            status = 500
            answer = {"ok": False, "error_code": 500, "description": f"fake crashed: {exc!r}"}
        status, content_type_out, payload = self._json(status, answer)
        self._record(
            Call(
                method=method,
                params=params,
                files={name: up.content for name, up in uploads.items()},
                at=at,
                file_names={name: up.file_name for name, up in uploads.items()},
                raw=raw,
                status=status,
                response=json.loads(payload),
            )
        )
        return status, content_type_out, payload

    def _parse_body(
        self, raw: dict[str, str], content_type: str, body: bytes
    ) -> tuple[dict[str, str], dict[str, Any], dict[str, _Upload]]:
        """Form, multipart or JSON body -> (raw strings, decoded params, uploads)."""
        mime = content_type.split(";", 1)[0].strip().lower()
        uploads: dict[str, _Upload] = {}
        if mime == "multipart/form-data":
            fields, uploads = _parse_multipart(body, content_type)
            raw.update(fields)
        elif mime == "application/json" and body:
            decoded = json.loads(body)
            raw.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in decoded.items()})
            # a string is read as a form value would be (reply_markup may come JSON-encoded)
            objects = {k: v for k, v in decoded.items() if not isinstance(v, str)}
            return raw, {**_decode_params(raw), **objects}, uploads
        elif body:
            raw.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        return raw, _decode_params(raw), uploads

    def _dispatch(
        self, token: str, method: str, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> tuple[int, dict[str, Any]]:
        """Check token and injected failures, then run the method handler."""
        if token != self.token:
            raise _ApiError(401, "Unauthorized")
        key = method.lower()
        with self._cond:
            queued = self._rate_limits.get(key)
            retry_after = queued.pop(0) if queued else None
            if retry_after is not None:
                raise _ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
            chat_id = params.get("chat_id")
            if chat_id in self._blocked and not key.startswith("getchat"):
                chat_type = self._chat_for(chat_id)["type"]
                if chat_type == "private":
                    raise _ApiError(403, "Forbidden: bot was blocked by the user")
                raise _ApiError(403, f"Forbidden: bot was kicked from the {chat_type} chat")
            late = self._slow.get(params.get("chat_id"), 0.0)
        if late:
            time.sleep(late)  # this connection's thread only: other calls go on
        handler = self._handlers.get(key)
        result = handler(params, uploads) if handler else True
        return 200, {"ok": True, "result": result}

    @staticmethod
    def _error_body(exc: _ApiError) -> dict[str, Any]:
        """Telegram's error envelope."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": exc.code,
            "description": exc.description,
        }
        if exc.parameters:
            body["parameters"] = exc.parameters
        return body

    @staticmethod
    def _json(status: int, body: dict[str, Any]) -> tuple[int, str, bytes]:
        """Serialize an API answer."""
        return status, "application/json", json.dumps(body, ensure_ascii=False).encode()

    def _download(self, token: str, file_path: str) -> tuple[int, str, bytes]:
        """Serve file bytes at /file/bot<token>/<file_path>."""
        if self._slow_files:
            time.sleep(self._slow_files)  # this connection's thread only
        with self._cond:
            found = next((f for f in self.files.values() if f.file_path == file_path), None)
            if token != self.token or found is None:
                return self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            self.downloads.append(file_path)
            return 200, "application/octet-stream", found.content

    # ----------------------------------------------------------------- method handlers

    def _chat_for(self, chat_id: int | str) -> dict[str, Any]:
        """The chat object for an outgoing message; caller holds the lock."""
        if chat_id in self.chats:
            return self.chats[chat_id]
        if isinstance(chat_id, str):
            chat = {"id": -1001000000000, "type": "channel", "title": chat_id,
                    "username": chat_id.lstrip("@")}  # fmt: skip
        elif chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            chat = {"id": chat_id, "type": kind, "title": "Nhóm thi đua"}
        else:
            chat = {"id": chat_id, "type": "private", "first_name": "An"}
        self.chats[chat_id] = chat
        return chat

    def _outgoing(self, params: dict[str, Any]) -> dict[str, Any]:
        """A new message from the bot, stored so it can be edited later."""
        chat_id = params["chat_id"]
        with self._cond:
            chat = self._chat_for(chat_id)
            message: dict[str, Any] = {
                "message_id": self._claim_message_id(chat_id),
                "from": self.bot_user,
                "chat": chat,
                "date": int(time.time()),
            }
        markup = self._checked_markup(params.get("reply_markup"))
        if markup and "inline_keyboard" in markup:  # only inline keyboards come back
            message["reply_markup"] = markup
        return message

    def _store(self, message: dict[str, Any]) -> dict[str, Any]:
        """Keep a copy of the bot's message; answer with the message."""
        with self._cond:
            key = (message["chat"]["id"], message["message_id"])
            self.messages[key] = json.loads(json.dumps(message))
        return message

    @staticmethod
    def _checked_markup(markup: Any) -> dict[str, Any] | None:
        """Reject keyboards Telegram rejects (callback_data over 64 bytes, action-less buttons)."""
        if not markup:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not _INLINE_BUTTON_ACTIONS & button.keys():
                    raise _bad_request("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise _bad_request("BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _check_text(text: Any, parse_mode: str | None, limit: int, what: str) -> None:
        """Empty or too long text is refused like the real API does."""
        visible = _visible_text(str(text), parse_mode)
        if visible is None:
            return
        if what == "text" and not visible.strip():
            raise _bad_request("message text is empty")
        if _utf16_len(visible) > limit:
            raise _bad_request(
                "message is too long" if what == "text" else "message caption is too long"
            )

    def _get_me(self, _params: dict[str, Any], _uploads: dict[str, _Upload]) -> dict[str, Any]:
        """The bot's own User, with the getMe-only capability flags."""
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_updates(
        self, params: dict[str, Any], _uploads: dict[str, _Upload]
    ) -> list[dict[str, Any]]:
        """Confirm by offset, then long-poll until an update arrives, timeout or stop()."""
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        deadline = time.monotonic() + timeout
        with self._cond:
            if self.webhook:
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # a newer getUpdates ends an older one, like Telegram
            if offset is not None:
                offset = int(offset)
                if offset < 0:
                    self._updates = self._updates[offset:]
                else:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while True:
                if generation != self._poll_generation:
                    raise _ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that "
                        "only one bot instance is running",
                    )
                remaining = deadline - time.monotonic()
                if self._updates or remaining <= 0 or not self._running:
                    return list(self._updates[:limit])
                self._cond.wait(remaining)

    def _send_message(self, params: dict[str, Any], _uploads: dict[str, _Upload]) -> Any:
        """A Message echoing text, entities and the inline keyboard."""
        text = params.get("text")
        if text is None:
            raise _bad_request("message text is empty")
        self._check_text(text, params.get("parse_mode"), MAX_TEXT_LENGTH, "text")
        message = self._outgoing(params)
        message["text"] = str(text)
        if params.get("entities"):
            message["entities"] = params["entities"]
        return self._store(message)

    def _editable(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """The stored message an edit targets; None for inline messages."""
        if params.get("inline_message_id"):
            return None
        key = (params.get("chat_id"), int(params.get("message_id") or 0))
        with self._cond:
            message = self.messages.get(key)
            if message is None:
                raise _bad_request("message to edit not found")
            if message.get("from", {}).get("id") != self.bot_id:
                raise _bad_request("message can't be edited")
            return message

    def _edit_message_text(self, params: dict[str, Any], _uploads: dict[str, _Upload]) -> Any:
        """Edit text (dropping the keyboard unless one is sent, as Telegram does)."""
        text = params.get("text")
        if text is None:
            raise _bad_request("text must be non-empty")
        self._check_text(text, params.get("parse_mode"), MAX_TEXT_LENGTH, "text")
        markup = self._checked_markup(params.get("reply_markup"))
        message = self._editable(params)
        if message is None:
            return True
        with self._cond:
            if "text" not in message:
                raise _bad_request("there is no text in the message to edit")
            if message["text"] == str(text) and message.get("reply_markup") == markup:
                raise _bad_request(_NOT_MODIFIED)
            message["text"] = str(text)
            message["edit_date"] = int(time.time())
            message.pop("entities", None)
            if params.get("entities"):
                message["entities"] = params["entities"]
            message.pop("reply_markup", None)
            if markup:
                message["reply_markup"] = markup
            return json.loads(json.dumps(message))

    def _edit_message_reply_markup(
        self, params: dict[str, Any], _uploads: dict[str, _Upload]
    ) -> Any:
        """Replace or remove the inline keyboard."""
        markup = self._checked_markup(params.get("reply_markup"))
        message = self._editable(params)
        if message is None:
            return True
        with self._cond:
            if message.get("reply_markup") == markup:
                raise _bad_request(_NOT_MODIFIED)
            message["edit_date"] = int(time.time())
            message.pop("reply_markup", None)
            if markup:
                message["reply_markup"] = markup
            return json.loads(json.dumps(message))

    def _answer_callback_query(self, params: dict[str, Any], _uploads: dict[str, _Upload]) -> bool:
        """True for callback ids the fake handed out; Telegram's 400 otherwise."""
        with self._cond:
            if str(params.get("callback_query_id")) not in self._callback_ids:
                raise _bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
        return True

    def _send_document(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        """Store an uploaded file (or re-send a known file_id) and answer with a Message."""
        document = params.get("document")
        upload = uploads.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            upload = uploads.get(document.removeprefix("attach://"))
        if upload is not None:
            if not upload.content:
                raise _bad_request("file must be non-empty")
            stored = self.add_file(
                upload.content, file_name=upload.file_name, mime_type=upload.mime_type
            )
        elif isinstance(document, str) and document in self.files:
            stored = self.files[document]
        elif isinstance(document, str) and document.startswith(("http://", "https://")):
            name = PurePosixPath(urllib.parse.urlsplit(document).path).name or "file"
            stored = self.add_file(b"", file_name=name)
        else:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        caption = params.get("caption")
        if caption is not None:
            self._check_text(caption, params.get("parse_mode"), MAX_CAPTION_LENGTH, "caption")
        message = self._outgoing(params)
        message["document"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if stored.file_name:
            message["document"]["file_name"] = stored.file_name
        if stored.mime_type:
            message["document"]["mime_type"] = stored.mime_type
        if caption is not None:
            message["caption"] = caption
        return self._store(message)

    def _get_file(self, params: dict[str, Any], _uploads: dict[str, _Upload]) -> dict[str, Any]:
        """A File with a download path; Telegram refuses unknown ids and files over 20 MB."""
        with self._cond:
            stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        """Commands are stored per (scope, language), like Telegram's command lists."""
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def commands_for(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]] | None:
        """What setMyCommands stored for a scope (dict as sent, default scope when None)."""
        key = self._commands_key({"scope": scope, "language_code": language_code})
        with self._cond:
            return self.commands.get(key)

    def menu_shown(self, chat_id: int, app_language: str) -> list[str]:
        """The descriptions a private chat's user sees, by Telegram's order of precedence.

        Bot API, "Determining list of commands": the chat scope with the user's language, the
        chat scope, then all private chats and the default scope, each with then without it.
        """
        scopes = [{"type": "chat", "chat_id": chat_id}, {"type": "all_private_chats"}, None]
        for scope in scopes:
            for language in (app_language, ""):
                found = self.commands_for(scope, language)
                if found is not None:
                    return [str(command["description"]) for command in found]
        return []

    def _set_my_commands(self, params: dict[str, Any], _uploads: dict[str, _Upload]) -> bool:
        """Validate like Telegram (lowercase names, 1-256 char descriptions) and store."""
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH" if commands else "commands must be a list")
        for command in commands:
            if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        with self._cond:
            self.commands[self._commands_key(params)] = commands
        return True

    def _delete_my_commands(self, params: dict[str, Any], _uploads: dict[str, _Upload]) -> bool:
        """Forget the command list of one scope and language."""
        with self._cond:
            self.commands.pop(self._commands_key(params), None)
        return True

    def _get_my_commands(
        self, params: dict[str, Any], _uploads: dict[str, _Upload]
    ) -> list[dict[str, Any]]:
        """The command list of exactly that scope and language ([] when unset)."""
        with self._cond:
            return list(self.commands.get(self._commands_key(params), []))

    def _set_webhook(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> bool:
        """Remember the webhook settings; an empty url removes the webhook."""
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise _bad_request("secret token contains unallowed characters")
        with self._cond:
            if params.get("drop_pending_updates"):
                self._updates.clear()
            if not params.get("url"):
                self.webhook = None
                return True
            self.webhook = {k: v for k, v in params.items() if k != "certificate"}
            self.webhook["has_custom_certificate"] = "certificate" in uploads
            self._cond.notify_all()  # a running long poll now conflicts
        return True

    def _delete_webhook(self, params: dict[str, Any], _uploads: dict[str, _Upload]) -> bool:
        """Drop the webhook (and pending updates when asked)."""
        with self._cond:
            self.webhook = None
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _get_webhook_info(
        self, _params: dict[str, Any], _uploads: dict[str, _Upload]
    ) -> dict[str, Any]:
        """WebhookInfo as Telegram reports it."""
        with self._cond:
            webhook = self.webhook or {}
            info: dict[str, Any] = {
                "url": webhook.get("url", ""),
                "has_custom_certificate": bool(webhook.get("has_custom_certificate")),
                "pending_update_count": len(self._updates),
            }
            for key in ("max_connections", "ip_address", "allowed_updates"):
                if key in webhook:
                    info[key] = webhook[key]
            return info


def free_port() -> int:
    """A port that was free a moment ago, for the bot's own webhook server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
