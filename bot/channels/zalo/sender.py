"""The outbox's port to Zalo: text only (a button becomes a line saying what to type), each
refusal mapped to what the dispatcher should do."""

from __future__ import annotations

import logging

from bot.channels.zalo.api import CUT, NETWORK, ZaloApi, ZaloError
from bot.channels.zalo.translate import split
from bot.i18n import _, use_language
from scheduler.dispatcher import Outcome, Outgoing, SendResult

log = logging.getLogger(__name__)
RETRY_AFTER = {429: 30.0, 403: 10.0, 408: 5.0, NETWORK: 10.0, CUT: 10.0}  # none is published


class ZaloSender:
    """Sends one outbox message as one or more Zalo texts."""

    def __init__(self, api: ZaloApi, language: str) -> None:
        self.api = api
        self.language = language

    async def __call__(self, chat_id: str, message: Outgoing) -> SendResult:
        """SENT, RETRY (quota, Zalo's 403 "internal error", the network) or FAILED."""
        text = message.text
        if message.choices:  # no buttons on Zalo: say what to type instead
            with use_language(self.language):
                text += "\n" + _("Type /menu to open it.")
        if message.document is not None:
            with use_language(self.language):
                text += "\n" + _("(The file goes with this message on Telegram, and is in /lists.)")
        try:
            for piece in split(text):
                await self.api.call("sendMessage", chat_id=chat_id, text=piece)
        except ZaloError as error:
            if error.code in RETRY_AFTER or error.code >= 500:
                return SendResult(Outcome.RETRY, RETRY_AFTER.get(error.code, 10.0), str(error))
            if error.code == 401:
                log.error("Zalo refused the bot token while sending; check THIDUA_ZALO_TOKEN")
            return SendResult(Outcome.FAILED, error=str(error))
        return SendResult(Outcome.SENT)
