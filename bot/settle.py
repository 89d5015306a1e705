"""What the service does once it has started, before the first people write."""

from __future__ import annotations

import gc

from bot import i18n


def settle() -> None:
    """Loads what answers need (catalogs, Babel's data) and freezes what the start built out of
    the garbage collector's way: each full collection walked those ~190,000 objects again, a
    pause of about 70 ms that a surge's slowest answers waited for."""
    i18n.load_all()
    gc.collect()
    gc.freeze()
