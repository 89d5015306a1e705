"""The Zalo Bot Platform's JSON calls, made directly: one answer shape ``{ok, result,
description, error_code}``, an ``ok: false`` inside an HTTP 200 is an error too."""

from __future__ import annotations

import json
import logging

import aiohttp

log = logging.getLogger(__name__)
CALL_TIMEOUT = 15.0  # seconds for a call other than a long poll
NETWORK = 0  # ZaloError code of a network failure once the call may have reached Zalo
CUT = 1  # ZaloError code of a connection refused, reset or closed before Zalo answered


class ZaloError(Exception):
    """A refused or failed call: ``code`` is Zalo's error code (or the HTTP status; NETWORK or
    CUT when the network failed). Its text never holds the URL, which holds the token."""

    def __init__(self, code: int, description: str = "") -> None:
        super().__init__(f"Zalo error {code}: {description}")
        self.code = code
        self.description = description


class ZaloApi:
    """``https://bot-api.zaloplatforms.com/bot<TOKEN>/<method>`` with JSON parameters."""

    def __init__(self, token: str, base_url: str) -> None:
        self._prefix = f"{base_url}{token}/"
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Opens the connection pool (in the running event loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=False)

    async def close(self) -> None:
        """Closes the pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, **params: object) -> object:
        """The call's ``result``; raises ZaloError for any refusal or failure."""
        return await self.call_waiting(method, CALL_TIMEOUT, **params)

    async def call_waiting(self, method: str, wait: float, **params: object) -> object:
        """A call given ``wait`` seconds in all (a long poll)."""
        assert self._session is not None, "start() first"
        try:
            async with self._session.post(
                self._prefix + method,
                json={k: v for k, v in params.items() if v is not None},
                timeout=aiohttp.ClientTimeout(total=wait),
            ) as response:
                status = response.status
                try:
                    raw = await response.read()
                except (TimeoutError, aiohttp.ClientError) as error:  # Zalo had answered
                    raise ZaloError(NETWORK, type(error).__name__) from None
        except TimeoutError:
            raise ZaloError(408, "timed out") from None
        except aiohttp.ClientConnectionError as error:  # its text may hold the URL: the name only
            raise ZaloError(CUT, type(error).__name__) from None
        except aiohttp.ClientError as error:
            raise ZaloError(NETWORK, type(error).__name__) from None
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if status == 200 and body.get("ok") is True:
            return body.get("result")
        code = body.get("error_code") if isinstance(body.get("error_code"), int) else status
        raise ZaloError(int(code or status), str(body.get("description") or "")[:200])
