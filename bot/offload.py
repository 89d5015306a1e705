"""Long CPU work (a 100,000-row workbook, a zip of every report) in a process of its own.

On threads of the service it would hold the GIL for seconds at a time, and every chat's
answer would wait its turn: measured, a 200-chat surge's p99 went from 2.1 s to 3.9 s while
the board's list was built, and the list took 21 s instead of 9. A second process runs on the
other core instead. Jobs are module-level functions (sent by reference) taking a session.
Uploaded spreadsheets are read ahead of their step in a second worker of their own (``call``),
so a board's export never delays a clerk's upload, and a hostile file meets a hard memory cap.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.i18n import language, use_language

log = logging.getLogger(__name__)
T = TypeVar("T")
LISTS, FILES = "lists", "files"
FILES_MEMORY = 1536 * 1024 * 1024  # address space of the files worker: MemoryError beyond
_pools: dict[str, ProcessPoolExecutor] = {}
_pool_lock = threading.Lock()
_engines: dict[str, Engine] = {}  # in the worker process: one engine per database


def run(session: Session, job: Callable[..., T], *args: Any) -> T:
    """``job(session, *args)`` in the worker process, on the database of ``session``, in the
    caller's language; blocks until done (call it from a thread that may wait: an Aside's).
    A worker that died is replaced at the next call; this one raises."""
    db_url = session.get_bind().engine.url.render_as_string(hide_password=False)
    return _submit(LISTS, _in_session, db_url, language(), job, *args)


def call(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in the files worker (its address space capped at FILES_MEMORY);
    blocks until done. A worker that died is replaced at the next call; this one raises."""
    return _submit(FILES, function, *args)


def _submit(name: str, function: Callable[..., T], *args: Any) -> T:
    pool = _worker_pool(name)
    try:
        return pool.submit(function, *args).result()
    except BrokenProcessPool:
        _discard(name, pool)
        raise


def _worker_pool(name: str) -> ProcessPoolExecutor:
    """One worker process per kind of work, started on first use ("spawn": nothing of the
    service's threads or connections is inherited)."""
    with _pool_lock:
        pool = _pools.get(name)
        if pool is None:
            pool = _pools[name] = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_cap_memory if name == FILES else None,
            )
        return pool


def _cap_memory() -> None:
    """In the files worker: an allocation beyond the cap raises MemoryError there, and the
    service's own memory is never at stake."""
    resource.setrlimit(resource.RLIMIT_AS, (FILES_MEMORY, FILES_MEMORY))


def _discard(name: str, pool: ProcessPoolExecutor) -> None:
    with _pool_lock:
        if _pools.get(name) is pool:
            del _pools[name]
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stops the worker processes (at the service's stop; work in progress is cut)."""
    with _pool_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=False, cancel_futures=True)


def _in_session(db_url: str, code: str, job: Callable[..., T], *args: Any) -> T:
    """In the worker process: the job on a session of the database, in the language given."""
    from storage.engine import make_engine, session_for

    engine = _engines.get(db_url)
    if engine is None:
        engine = _engines[db_url] = make_engine(db_url)
    with use_language(code), session_for(engine) as session:
        return job(session, *args)
