"""The cyclic collector held off while the service works through a large heap
(tracker.service.heap): off inside, back on after the outermost block (threads overlapping
count once), left off if it was off, and the cycles made inside collected at the end."""

import gc
import threading
import weakref

import pytest

from tracker.service.heap import collector_paused


class Node:
    def __init__(self) -> None:
        self.other: "Node | None" = None


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_off_inside_on_after_nested_blocks_once():
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block's end is not the outermost
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_threads_count_once():
    entered, release_first, first_done = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with collector_paused():
            entered.set()
            release_first.wait(5)
        first_done.set()

    t = threading.Thread(target=first)
    t.start()
    assert entered.wait(5)
    with collector_paused():
        release_first.set()
        assert first_done.wait(5)
        assert not gc.isenabled()  # the first thread left, this one is still inside
    t.join(5)
    assert gc.isenabled()


def test_cycles_made_inside_are_collected_at_the_end():
    with collector_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        del a, b
        assert ref() is not None  # a cycle: reference counting alone does not free it
    assert ref() is None


def test_the_service_evaluates_and_reports_with_the_collector_held_off(monkeypatch, db_url, engine, tmp_path,
                                                                        small_model):
    import tracker.report.files as files
    import tracker.status.evaluate as evaluate
    from tracker.config import Settings
    from tracker.service import Tracker

    seen: list[tuple[str, bool]] = []
    real_evaluate, real_generate = evaluate.evaluate_plans, files.generate_report

    def watched_evaluate(*args, **kwargs):
        seen.append(("evaluate", gc.isenabled()))
        return real_evaluate(*args, **kwargs)

    def watched_generate(*args, **kwargs):
        seen.append(("report", gc.isenabled()))
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(evaluate, "evaluate_plans", watched_evaluate)
    monkeypatch.setattr(files, "generate_report", watched_generate)
    tracker = Tracker(Settings(database_url=db_url, reports_dir=tmp_path / "reports"), engine=engine,
                      model=small_model)
    tracker.write_report()
    assert seen == [("evaluate", False), ("report", False)] and gc.isenabled()


def test_pauses_that_keep_overlapping_still_collect_now_and_then(monkeypatch):
    """Requests overlapping without end would keep the collector off: a block ending while
    others go on collects the young cycles once the pause has lasted LONGEST_PAUSE."""
    import tracker.service.heap as heap

    clock = [1000.0]
    monkeypatch.setattr(heap.time, "monotonic", lambda: clock[0])
    with collector_paused():  # another request, in the whole time
        with collector_paused():
            a, b = Node(), Node()
            a.other, b.other = b, a
            ref = weakref.ref(a)
            del a, b
        assert ref() is not None  # a short pause: nothing collected yet
        with collector_paused():
            clock[0] += heap.LONGEST_PAUSE + 1
        assert ref() is None and not gc.isenabled()  # collected, and still paused for the outer block
    assert gc.isenabled()
