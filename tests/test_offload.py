"""Long work in the worker process: another process, the caller's language and database, and
a worker that dies replaced at the next call."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import offload
from bot.i18n import _, language, use_language
from storage.engine import session_for


def where_and_how(session: Session) -> tuple[int, str, str, int]:
    """Run in the worker: its process id, language, a translated word, and a query's answer."""
    answer = session.execute(text("SELECT count(*) FROM enterprise")).scalar_one()
    return os.getpid(), language(), _("Cancelled."), int(answer)


def die(session: Session) -> None:
    os._exit(3)  # the worker process ends abruptly (killed, out of memory)


def test_work_runs_in_another_process_in_the_callers_language(engine: Engine) -> None:
    with session_for(engine) as session, use_language("en"):
        pid, code, word, enterprises = offload.run(session, where_and_how)
    assert pid != os.getpid() and code == "en" and word == "Cancelled." and enterprises == 0
    with session_for(engine) as session, use_language("vi"):
        again, code, word, _n = offload.run(session, where_and_how)
    assert again == pid and code == "vi" and word != "Cancelled."  # the same worker, kept


def test_a_worker_that_dies_is_replaced(engine: Engine) -> None:
    with session_for(engine) as session:
        with pytest.raises(BrokenProcessPool):
            offload.run(session, die)
        pid, *_rest = offload.run(session, where_and_how)
    assert pid != os.getpid()
