"""Long CPU work (a 100,000-row workbook, a zip of every report) in a process of its own.

On threads of the service it would hold the GIL for seconds at a time, and every chat's
answer would wait its turn: measured, a 200-chat surge's p99 went from 2.1 s to 3.9 s while
the board's list was built, and the list took 21 s instead of 9. A second process runs on the
other core instead. Jobs are module-level functions (sent by reference) taking a session.
"""

from __future__ import annotations

import logging
import multiprocessing
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
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_engines: dict[str, Engine] = {}  # in the worker process: one engine per database


def run(session: Session, job: Callable[..., T], *args: Any) -> T:
    """``job(session, *args)`` in the worker process, on the database of ``session``, in the
    caller's language; blocks until done (call it from a thread that may wait: an Aside's).
    A worker that died is replaced at the next call; this one raises."""
    db_url = session.get_bind().engine.url.render_as_string(hide_password=False)
    pool = _worker_pool()
    try:
        return pool.submit(_in_session, db_url, language(), job, *args).result()
    except BrokenProcessPool:
        _discard(pool)
        raise


def _worker_pool() -> ProcessPoolExecutor:
    """One worker process, started on first use ("spawn": nothing of the service's threads
    or connections is inherited)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return _pool


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stops the worker process (at the service's stop; exports in progress are cut)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def _in_session(db_url: str, code: str, job: Callable[..., T], *args: Any) -> T:
    """In the worker process: the job on a session of the database, in the language given."""
    from storage.engine import make_engine, session_for

    engine = _engines.get(db_url)
    if engine is None:
        engine = _engines[db_url] = make_engine(db_url)
    with use_language(code), session_for(engine) as session:
        return job(session, *args)
