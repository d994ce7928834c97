"""The cyclic garbage collector held off while a run works through a large heap.

An evaluation of the national set holds millions of objects (series, sums, statuses, report
pieces) that live for the whole run. Python's collector walks every one of them at each full
collection, which the run's own allocations keep triggering: measured on the national set, a
quarter of a re-run after 1% of the series changed (tracker.status.incremental). Inside
`collector_paused` objects are still freed as soon as nothing refers to them (reference
counting); only cycles wait, and the collector runs once when the outermost pause ends, so
memory held by them is returned then.
"""

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()
_DEPTH = 0  # pauses in progress in this process (the web app's threads may overlap)
_WAS_ENABLED = False
_SINCE = 0.0  # when the collector was last run or the pause began (monotonic seconds)
LONGEST_PAUSE = 60.0  # overlapping requests may keep it paused: the young cycles are collected this often


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold off cyclic collection for the block (nested and overlapping blocks count once)."""
    global _DEPTH, _WAS_ENABLED, _SINCE
    with _LOCK:
        if _DEPTH == 0:
            _WAS_ENABLED = gc.isenabled()
            _SINCE = time.monotonic()
            gc.disable()
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            resume = _DEPTH == 0 and _WAS_ENABLED
            overdue = not resume and _WAS_ENABLED and time.monotonic() - _SINCE > LONGEST_PAUSE
            if resume:
                gc.enable()
            if overdue:
                _SINCE = time.monotonic()
        if resume or overdue:
            gc.collect(1)  # the young cycles made meanwhile; the old ones at the next full collection
