"""The one-time file links on the web front, for chats that cannot carry files (Zalo): a plain
upload page per step (``/u/<token>``) and downloads of the files the bot sends (``/f/<token>``).

An upload is streamed under the data directory with its size checked as it comes (refused past
the limit without reading the rest), then handed to the chat's channel as that chat's file,
through the inbox, so the chat answers exactly as for a file sent in the chat."""

from __future__ import annotations

import asyncio
import html
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web
from sqlalchemy.engine import Engine

from bot.i18n import N_, _, use_language
from bot.settings import Settings
from storage import conversations, file_links
from storage.text import clip, nfc

log = logging.getLogger(__name__)
CHUNK = 64 * 1024
Deliver = Callable[[str, str, dict[str, object]], Awaitable[None]]  # chat, key, payload
Add = Callable[[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]], None]
USED = N_("This link was already used")
EXPIRED = N_("This link has expired")
ASK_AGAIN = N_("Ask the chat for a new link.")


class FilePages:
    """``/u/<token>`` (GET: the page; POST: the file) and ``/f/<token>`` (the download)."""

    def __init__(
        self, settings: Settings, engine: Engine, clock: Callable[[], datetime], deliver: Deliver
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.deliver = deliver  # (chat, key, payload) into the channel's inbox, chat woken
        self.folder = settings.data_dir / "incoming" / "links"
        self.limit = max(settings.import_max_mb, 20) * 1024 * 1024

    def routes(
        self, add: Callable[[str, str, Callable[..., Awaitable[web.StreamResponse]]], None]
    ) -> None:
        """Registers the pages on the web front."""
        add("GET", "/u/{token}", self.page)
        add("POST", "/u/{token}", self.upload)
        add("GET", "/f/{token}", self.download)

    async def page(self, request: web.Request) -> web.Response:
        """The form, or why the link cannot be used."""
        with use_language(self.settings.locale):
            _link, problem = await self._upload_link(request.match_info["token"])
            if problem is not None:
                return problem
            return _page(
                _("Send a file"),
                _(
                    "Choose the file, then press “Send”. It goes to the step of the chat that"
                    " gave you this link."
                ),
                form=True,
            )

    async def upload(self, request: web.Request) -> web.Response:
        """Streams the file in within the limit, takes the link, hands the file to the chat."""
        with use_language(self.settings.locale):
            link, problem = await self._upload_link(request.match_info["token"])
            if problem is not None or link is None:
                return problem or _page(_("Link not found"), "", status=404)
            part = await _file_part(request)
            if part is None or not part.filename:
                return _page(_("No file was chosen"), _("Go back and choose a file."), status=400)
            name = _shown_name(part.filename)
            self.folder.mkdir(parents=True, exist_ok=True)
            dest = self.folder / uuid.uuid4().hex
            size = 0
            try:
                with dest.open("wb") as out:
                    while chunk := await part.read_chunk(CHUNK):
                        size += len(chunk)
                        if size > self.limit:
                            raise _TooLarge
                        out.write(chunk)
            except _TooLarge:
                dest.unlink(missing_ok=True)
                return _page(
                    _("The file is too large"),
                    _("At most %(mb)s MB. Please send a smaller file.")
                    % {"mb": self.limit // 1024 // 1024},
                    status=413,
                )
            except BaseException:  # a dropped connection, a stop: nothing half-written stays
                dest.unlink(missing_ok=True)
                raise
            if size == 0:
                dest.unlink(missing_ok=True)
                return _page(
                    _("The file is empty"), _("Go back and choose the file again."), status=400
                )
            taken = await asyncio.to_thread(self._use, link)
            if not taken:  # sent twice at once, expired, or the chat moved on meanwhile
                dest.unlink(missing_ok=True)
                return _page(_(USED), _(ASK_AGAIN), status=410)
            payload: dict[str, object] = {
                "upload": {"path": str(dest), "name": name or dest.name, "size": size}
            }
            try:
                await self.deliver(link.chat_id, f"upload:{link.id}", payload)
            except BaseException:  # the link is given back, so "try again" can work
                log.exception("an upload could not be handed to chat %s", link.chat_id)
                dest.unlink(missing_ok=True)
                await asyncio.to_thread(self._release, link.id)
                return _page(_("Not received"), _("Please try again in a minute."), status=503)
            return _page(
                _("File received"),
                _("%(name)s was received. Go back to the chat: the answer is there.")
                % {"name": name},
            )

    async def download(self, request: web.Request) -> web.StreamResponse:
        """A file the bot sent, under the name it gave, until the link expires."""
        with use_language(self.settings.locale):
            link = await asyncio.to_thread(self._find, request.match_info["token"], "download")
            if link is None or link.path is None:
                return _page(_("Link not found"), _("Ask the chat again."), status=404)
            if link.expires_at <= self.clock():
                return _page(_(EXPIRED), _("Ask the chat again."), status=410)
            path = Path(link.path)
            if not path.is_file():
                return _page(_("The file is no longer kept"), _("Ask the chat again."), status=410)
            name = link.name or path.name
            return web.FileResponse(
                path,
                headers={
                    "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                    "Cache-Control": "no-store",
                },
            )

    async def _upload_link(self, token: str) -> tuple[file_links.Link | None, web.Response | None]:
        """The upload link, or the page saying why it cannot be used now."""
        link, state = await asyncio.to_thread(self._upload_state, token)
        if link is None:
            return None, _page(_("Link not found"), _(ASK_AGAIN), status=404)
        if link.used_at is not None:
            return None, _page(_(USED), _(ASK_AGAIN), status=410)
        if link.expires_at <= self.clock():
            return None, _page(_(EXPIRED), _(ASK_AGAIN), status=410)
        if state != (link.step, link.version):
            return None, _page(
                _("The chat has moved on"),
                _(
                    "This link was for an earlier step. Open the step again in the chat to get a"
                    " new link."
                ),
                status=409,
            )
        return link, None

    def _find(self, token: str, kind: str) -> file_links.Link | None:
        with self.engine.connect() as conn:
            return file_links.find(conn, token, kind)

    def _use(self, link: file_links.Link) -> bool:
        """Takes the link if the chat is still where the link was given (checked again now:
        the upload may have taken minutes)."""
        with self.engine.begin() as conn:
            state = conversations.state_of(conn=conn, channel=link.channel, chat_id=link.chat_id)
            if state != (link.step, link.version):
                return False
            return file_links.use(conn, link.id, self.clock())

    def _release(self, link_id: int) -> None:
        with self.engine.begin() as conn:
            file_links.release(conn, link_id)

    def _upload_state(
        self, token: str
    ) -> tuple[file_links.Link | None, tuple[str | None, int | None]]:
        """The upload link and where its chat stands now, read on one connection."""
        with self.engine.connect() as conn:
            link = file_links.find(conn, token, "upload")
            if link is None:
                return None, (None, None)
            state = conversations.state_of(conn=conn, channel=link.channel, chat_id=link.chat_id)
            return link, state


def _shown_name(sent: str) -> str:
    """The name the person sees: the last part of what the browser sent, decoded, cleaned;
    never a path (the file is kept under a random name)."""
    return clip(nfc(unquote(sent).replace("\\", "/").rsplit("/", 1)[-1]), 200)


async def _file_part(request: web.Request) -> BodyPartReader | None:
    """The form's "file" field, read as a stream (None: no such field, or not a form)."""
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.name == "file":
                return part
    except (ValueError, AssertionError, KeyError):  # not multipart, or broken
        return None
    return None


class _TooLarge(Exception):
    """The upload passed the limit: the rest is not read."""


def _page(title: str, text: str, *, status: int = 200, form: bool = False) -> web.Response:
    """A plain page a phone shows well; every text escaped."""
    body = f"<p>{html.escape(text)}</p>" if text else ""
    if form:
        body += (
            '<form method="post" enctype="multipart/form-data">'
            '<p><input type="file" name="file" required></p>'
            f'<p><button type="submit">{html.escape(_("Send"))}</button></p></form>'
        )
    document = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em;font-size:1.1em}"
        "button{font-size:1.1em;padding:.5em 1.5em}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(text=document, status=status, content_type="text/html")
