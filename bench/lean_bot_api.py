"""A lean fake Bot API for throughput benchmarks: asyncio, keep-alive, canned answers.

tests/fake_telegram.py checks and records everything and tops out near 300 requests/s; this one
only answers (getMe, sendMessage, sendPhoto, anything else: true) and counts messages per chat,
so a benchmark measures the sender, not the fake. Run as its own process: it prints its port.
``python -m bench.lean_bot_api 0.1`` answers every call 100 ms late, as a distant server would,
and remembers when each chat's last message was answered (``/last``, monotonic clock).
``POST /pushhook`` delivers updates to a webhook as Telegram does: over a number of connections
at once, each posting the next update once the previous one was acknowledged.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from urllib.parse import parse_qs

BOT = {"id": 123456, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
counts: Counter[str] = Counter()
last: dict[str, float] = {}  # chat -> time.monotonic() its latest message was answered
delay = 0.0
updates: list[dict[str, object]] = []  # pushed with POST /push, served by getUpdates
arrived: asyncio.Event | None = None
delivering: set[asyncio.Task[None]] = set()  # held: a task only the loop refers to can be collected


def _params(body: bytes) -> dict[str, str]:
    if body.startswith(b"{"):
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(body).items()}
    return {k: v[0] for k, v in parse_qs(body.decode()).items()}


async def _get_updates(body: bytes) -> bytes:
    """Long polling over the pushed updates: those from the offset on, or wait for some."""
    global updates
    params = _params(body)
    offset = int(params.get("offset") or 0)
    updates = [u for u in updates if int(str(u["update_id"])) >= offset]
    if not updates and arrived is not None:
        arrived.clear()
        try:
            await asyncio.wait_for(arrived.wait(), float(params.get("timeout") or 0))
        except TimeoutError:
            pass
    batch = updates[: int(params.get("limit") or 100)]
    return json.dumps({"ok": True, "result": batch}).encode()


def _answer(method: str, body: bytes) -> bytes:
    if method == "getme":
        result: object = BOT
    elif method in ("sendmessage", "sendphoto"):
        if body.startswith(b"{"):
            params = {k: str(v) for k, v in json.loads(body).items()}
        else:
            params = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        chat = params.get("chat_id", "0")
        counts[chat] += 1
        last[chat] = time.monotonic() + delay  # answered after the delay
        result = {
            "message_id": sum(counts.values()),
            "date": int(time.time()),
            "chat": {"id": int(chat), "type": "private"},
            "text": params.get("text", ""),
        }
    else:
        result = True
    return json.dumps({"ok": True, "result": result}).encode()


async def _deliver(hooked: dict[str, object]) -> None:
    """One webhook connection: posts the pushed updates (shared with the other connections, in
    order) one at a time, each after the previous one's answer; refused ones are not retried."""
    from urllib.parse import urlsplit

    pending = hooked["updates"]
    assert isinstance(pending, list)
    url = urlsplit(str(hooked["url"]))
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = (
        f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {hooked['secret']}\r\n"
    )
    while pending:
        body = json.dumps(pending.pop(0)).encode()
        writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        answer = await reader.readuntil(b"\r\n\r\n")
        for line in answer.decode("latin-1").split("\r\n")[1:]:
            if line.lower().startswith("content-length:"):
                await reader.readexactly(int(line.split(":", 1)[1]))
    writer.close()


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            length = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            body = await reader.readexactly(length) if length else b""
            if path.startswith("/done"):  # how many chats have n answers (cheap to ask often)
                least = int(path.partition("n=")[2] or 1)
                payload = str(sum(1 for n in counts.values() if n >= least)).encode()
            elif path == "/counts":
                payload = json.dumps(counts).encode()
            elif path == "/last":
                payload = json.dumps({c: [counts[c], t] for c, t in last.items()}).encode()
            elif path == "/push":
                updates.extend(json.loads(body))
                if arrived is not None:
                    arrived.set()
                payload = b"true"
            elif path == "/pushhook":
                hooked = json.loads(body)
                for _ in range(int(hooked["connections"])):
                    task = asyncio.create_task(_deliver(hooked))
                    delivering.add(task)
                    task.add_done_callback(delivering.discard)
                payload = b"true"
            elif path.lower().endswith("/getupdates"):
                if delay:
                    await asyncio.sleep(delay)
                payload = await _get_updates(body)
            else:
                payload = _answer(path.rsplit("/", 1)[-1].lower(), body)
                if delay:
                    await asyncio.sleep(delay)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(payload)).encode()
                + b"\r\n\r\n"
                + payload
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def main() -> None:
    global arrived
    arrived = asyncio.Event()
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
