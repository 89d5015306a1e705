"""Many chats at once: each chat's updates in order, others not held; answers paced per chat."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram.ordering import ChatOrder, Delivery
from bot.channels.telegram.pacing import ChatPacer
from bot.channels.telegram.transport import ConnectionCut


def _payload(chat: int, number: int) -> dict[str, Any]:
    message = {
        "message_id": number,
        "date": 0,
        "chat": {"id": chat, "type": "private"},
        "text": f"tin {number}",
    }
    return {"update_id": number, "message": message}


def _update(chat: int, number: int) -> Delivery:
    return Delivery(_payload(chat, number))


async def test_one_chat_in_arrival_order_while_other_chats_go_on() -> None:
    order = ChatOrder(limit=2)
    events: list[str] = []
    first_may_end = asyncio.Event()

    async def work(name: str, gate: asyncio.Event | None = None) -> None:
        events.append(f"start {name}")
        if gate is not None:
            await gate.wait()
        events.append(f"end {name}")

    tasks = [
        asyncio.create_task(order.process_update(_update(1, 1), work("a1", first_may_end))),
        asyncio.create_task(order.process_update(_update(1, 2), work("a2"))),
        asyncio.create_task(order.process_update(_update(1, 3), work("a3"))),
        asyncio.create_task(order.process_update(_update(2, 4), work("b1"))),
    ]
    for _ in range(50):
        await asyncio.sleep(0)
    # chat 1's later updates wait for its first, holding no slot: chat 2 is answered meanwhile
    assert events == ["start a1", "start b1", "end b1"]
    first_may_end.set()
    await asyncio.gather(*tasks)
    assert events[3:] == ["end a1", "start a2", "end a2", "start a3", "end a3"]
    assert order._chats == {}  # nothing kept per chat once its updates are done


async def test_updates_beyond_the_limit_wait_for_a_slot() -> None:
    order = ChatOrder(limit=1)
    running: list[int] = []
    most = 0

    async def work(chat: int) -> None:
        nonlocal most
        running.append(chat)
        most = max(most, len(running))
        await asyncio.sleep(0.001)
        running.remove(chat)

    await asyncio.gather(*(order.process_update(_update(c, c), work(c)) for c in range(1, 6)))
    assert most == 1


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


async def test_answers_burst_then_about_one_a_second_per_chat() -> None:
    clock = _Clock()
    pacer = ChatPacer(per_second=1.0, burst=3, clock=clock, sleep=clock.sleep)
    sent: list[tuple[float, object]] = []

    async def call(chat: object) -> dict[str, Any]:
        sent.append((clock.now, chat))
        return {}

    for chat in ["a", "a", "a", "a", "b"]:
        await pacer.process_request(call, (chat,), {}, "sendMessage", {"chat_id": chat}, None)
    assert sent == [(0.0, "a"), (0.0, "a"), (0.0, "a"), (1.0, "a"), (1.0, "b")]


async def test_a_flood_refusal_holds_that_chat_only_and_is_retried() -> None:
    pacer = ChatPacer()  # the real clock: two chats at once
    loop = asyncio.get_running_loop()
    started = loop.time()
    refusals = {"a": 1, "c": 5}
    sent: dict[str, float] = {}

    async def call(chat: str) -> dict[str, Any]:
        if refusals.get(chat):
            refusals[chat] -= 1
            raise RetryAfter(timedelta(seconds=0.3))
        sent[chat] = loop.time() - started
        return {}

    async def send(chat: str, retries: int | None = None) -> None:
        await pacer.process_request(call, (chat,), {}, "sendMessage", {"chat_id": chat}, retries)

    first_a = asyncio.create_task(send("a"))
    await asyncio.sleep(0.05)  # a has been refused and is held
    await send("b")
    assert sent["b"] < 0.2  # not held by a's refusal
    await first_a
    assert sent["a"] >= 0.3  # retried after its retry_after
    try:
        await send("c", retries=2)
    except RetryAfter:
        assert "c" not in sent and refusals["c"] == 2  # tried three times, then gave up
    else:
        raise AssertionError("a chat refused beyond its retries must raise")


@pytest.mark.parametrize(
    ("failures", "calls", "slept", "raises"),
    [
        ([ConnectionCut("aiohttp.ServerDisconnectedError")], 2, [1.0], False),
        ([ConnectionCut("aiohttp.ClientConnectorError")] * 2, 3, [1.0, 3.0], False),
        ([ConnectionCut("aiohttp.ClientOSError")] * 3, 3, [1.0, 3.0], True),  # then it gives up
        ([TimedOut()], 1, [], True),  # Telegram may have taken the message: not sent twice
        ([NetworkError("the answer (200) was cut: aiohttp.ClientPayloadError")], 1, [], True),
        ([NetworkError("Bad Gateway")], 1, [], True),  # a 5xx: it may have gone out too
        ([BadRequest("Bad Request: message text is empty")], 1, [], True),  # refused, not cut
    ],
)
async def test_a_call_the_network_cut_is_tried_again_soon_and_nothing_else_is(
    failures: list[Exception], calls: int, slept: list[float], raises: bool
) -> None:
    clock = _Clock()
    pacer = ChatPacer(per_second=100.0, burst=10, clock=clock, sleep=clock.sleep)
    left = list(failures)
    made = 0

    async def call() -> dict[str, Any]:
        nonlocal made
        made += 1
        if left:
            raise left.pop(0)
        return {"ok": True}

    raised = None
    try:
        await pacer.process_request(call, (), {}, "sendMessage", {"chat_id": 7}, None)
    except NetworkError as error:
        raised = error
    assert made == calls and clock.slept == slept
    assert (raised is failures[-1]) if raises else raised is None


async def test_a_stopping_pacer_does_not_wait_to_try_a_cut_call_again() -> None:
    """At stop the answer is kept for the next start rather than holding the stop."""
    clock = _Clock()
    pacer = ChatPacer(clock=clock, sleep=clock.sleep)
    pacer.stopping = True

    async def call() -> dict[str, Any]:
        raise ConnectionCut("aiohttp.ServerDisconnectedError")

    with pytest.raises(ConnectionCut):
        await pacer.process_request(call, (), {}, "sendMessage", {"chat_id": 7}, None)
    assert clock.slept == []


async def test_a_chat_named_by_number_or_by_text_is_one_chat() -> None:
    """PTB is given the chat as an int by some calls and as a string by others."""
    clock = _Clock()
    pacer = ChatPacer(per_second=1.0, burst=3, clock=clock, sleep=clock.sleep)
    sent: list[float] = []

    async def call() -> dict[str, Any]:
        sent.append(clock.now)
        return {}

    for chat in (5, "5", 5, "5"):
        await pacer.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)
    scope = {"type": "chat", "chat_id": 5}  # a chat's command menu names it in its scope
    await pacer.process_request(call, (), {}, "setMyCommands", {"scope": scope}, None)
    assert sent == [0.0, 0.0, 0.0, 1.0, 2.0]


async def test_webhook_deliveries_arriving_at_once_share_a_commit() -> None:
    """Under a surge one transaction stores many webhook calls; a failure reaches each of them."""
    from bot.channels.arrivals import Arrivals

    batches: list[list[int]] = []
    failing = False

    async def store(updates: list[dict[str, Any]]) -> None:
        await asyncio.sleep(0.01)  # the database's round trip
        if failing:
            raise OSError("the database is away")
        batches.append([u["update_id"] for u in updates])

    arrivals = Arrivals(store)
    await asyncio.gather(*(arrivals.store(_payload(c, c)) for c in range(1, 51)))
    assert sorted(i for batch in batches for i in batch) == list(range(1, 51))
    assert len(batches) <= 2  # not fifty commits: those that came while one was stored wait for it
    failing = True
    results = await asyncio.gather(
        *(arrivals.store(_payload(c, c)) for c in range(51, 54)), return_exceptions=True
    )
    assert all(isinstance(r, OSError) for r in results)
