"""The engine's timer heap: due order, cancellation, and no memory held by cancelled timers."""

from __future__ import annotations

import gc
import weakref

from signaling.pjsua._timers import TimerHeap


class _Record:
    """Stands for a call's record that a timer callback closes over."""


def test_timers_run_in_due_order_and_cancelled_ones_never_run() -> None:
    heap = TimerHeap()
    ran: list[str] = []
    heap.at(3.0, lambda: ran.append("c"))
    heap.at(1.0, lambda: ran.append("a"))
    skipped = heap.at(2.0, lambda: ran.append("b"))
    skipped.cancel()
    assert heap.next_due() == 1.0
    heap.run_due(2.5)
    assert ran == ["a"]
    heap.run_due(3.0)
    assert ran == ["a", "c"]
    assert heap.next_due() is None and len(heap) == 0


def test_a_cancelled_timer_lets_go_of_what_its_callback_holds() -> None:
    heap = TimerHeap()
    record = _Record()
    ref = weakref.ref(record)
    timer = heap.at(1e9, lambda held=record: print(held))
    del record
    gc.collect()
    assert ref() is not None  # pending: the callback keeps it
    timer.cancel()
    gc.collect()
    assert ref() is None


def test_cancelled_timers_far_in_the_future_do_not_pile_up() -> None:
    heap = TimerHeap()
    keep = heap.at(5.0, lambda: None)
    for n in range(10_000):  # each call: a long timeout set, then cancelled when it went well
        heap.at(1e6 + n, lambda: None).cancel()
    assert len(heap) < 200
    assert heap.next_due() == 5.0
    keep.cancel()
    assert heap.next_due() is None


def test_rearm_keeps_a_timer_due_then_and_replaces_one_that_is_not() -> None:
    heap = TimerHeap()
    ran: list[str] = []
    timer = heap.rearm(None, 5.0, lambda: ran.append("a"))
    assert timer is not None and heap.rearm(timer, 5.0, lambda: ran.append("b")) is timer
    moved = heap.rearm(timer, 3.0, lambda: ran.append("c"))
    assert moved is not timer and timer.cancelled
    assert heap.rearm(moved, None, lambda: None) is None
    heap.run_due(10.0)
    assert ran == []
