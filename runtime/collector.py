"""The cyclic garbage collector, paused around work that builds hundreds of thousands of objects
(a national consolidation, a plan issued to thousands of units): each of its full passes walks
every live object, and such a run triggers several (a sixth of a national consolidation).
Reference counting frees as usual meanwhile; the collector resumes when the last concurrent
holder leaves, and only if it was on."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _holders, _was_enabled
    if _holders == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _holders += 1
    try:
        yield
    finally:
        _holders -= 1
        if _holders == 0 and _was_enabled:
            gc.enable()
