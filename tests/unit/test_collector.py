"""runtime.collector: the cyclic collector paused for nested and concurrent holders, and left as
it was found."""

from __future__ import annotations

import gc

from runtime.collector import collector_paused


def test_paused_while_any_holder_is_in_and_resumed_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_found_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_resumed_when_the_body_raises() -> None:
    try:
        with collector_paused():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.isenabled()
