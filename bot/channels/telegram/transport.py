"""PTB's Bot API requests over aiohttp: the same calls, errors and rate limiter, less CPU each.

Under a surge every answer is a few Bot API calls, and on a small machine the CPU per call is
what bounds the answers per second: httpx's connection pool walks every connection for every
request (quadratic in a pool sized for hundreds of chats at once), where aiohttp's does not.
"""

from __future__ import annotations

import json
from functools import lru_cache

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.types import ODVInput  # the type PTB's BaseRequest declares
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

_DEFAULTS = {"read": 5.0, "write": 5.0, "connect": 5.0, "pool": 1.0}
_JSON = {"Content-Type": "application/json"}
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per call
MEDIA_WRITE_TIMEOUT = 20.0  # seconds: an upload of a workbook or a chart


class ConnectionCut(NetworkError):
    """The connection was refused, reset or closed before Telegram answered: unlike a timeout
    or an answer cut midway, the call can be made again without sending a message twice."""


class AiohttpRequest(BaseRequest):
    """One pooled aiohttp session per bot; opened in the running loop by ``initialize``."""

    def __init__(self, connections: int = 256) -> None:
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not name one."""
        return _DEFAULTS["read"]

    async def initialize(self) -> None:
        """Opens the connection pool."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Closes the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Sends one call; a timeout is PTB's TimedOut, any other failure its NetworkError."""
        if self._session is None or self._session.closed:
            await self.initialize()
        assert self._session is not None
        files = request_data.multipart_data if request_data else None
        body: aiohttp.FormData | bytes | None = None
        headers = None
        if files:
            assert request_data is not None
            form = aiohttp.FormData(quote_fields=False)  # "Báo cáo.xlsx" stays readable
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (file_name, content, mime_type) in files.items():
                form.add_field(name, content, filename=file_name, content_type=mime_type)
            body = form
        elif request_data is not None and (parameters := request_data.parameters):
            # A JSON body rather than a URL-encoded form, which quoted each character of a long
            # Vietnamese text (5 % of the CPU under a surge).
            body, headers = _ENCODE(parameters).encode(), _JSON
        connect = _given(pool_timeout, "pool") + _given(connect_timeout, "connect")
        write = (
            max(MEDIA_WRITE_TIMEOUT, _given(write_timeout, "write"))
            if files
            else _given(write_timeout, "write")
        )
        # aiohttp's read timer starts once the body is written: only a total bounds a stalled
        # upload, so the whole call is bounded by connecting + writing + reading.
        timeout = aiohttp.ClientTimeout(
            total=connect + write + _given(read_timeout, "read"), connect=connect
        )
        try:
            proxy, auth = env_proxy(URL(url).origin())
            async with self._session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                proxy=proxy,
                proxy_auth=auth,
            ) as response:
                status = response.status
                try:
                    return status, await response.read()
                except (TimeoutError, aiohttp.ClientError) as error:  # Telegram had answered
                    raise NetworkError(
                        f"the answer ({status}) was cut: aiohttp.{type(error).__name__}"
                    ) from error
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientConnectionError as error:
            raise ConnectionCut(f"aiohttp.{type(error).__name__}: {error}") from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


@lru_cache(maxsize=16)
def env_proxy(origin: URL) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """HTTPS_PROXY and friends (as PTB's httpx transport honours them), read once per origin:
    aiohttp's ``trust_env`` reads them, and ~/.netrc, again for every request."""
    try:
        return get_env_proxy_for_url(origin)
    except LookupError:
        return None, None


def _given(value: object, name: str) -> float:
    """A timeout the call named, or ours (PTB passes a DefaultValue when none was named)."""
    if isinstance(value, int | float):
        return float(value)
    return _DEFAULTS[name]
