"""Under `make run` a service that dies is started again with backoff, and says so; it does not
stop the stack (runtime/launcher.py, Stack.supervise). Real processes stand in for the services."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runtime.launcher import Stack


class FakeStack(Stack):
    def start_service(self, name: str) -> None:
        self.started_at[name] = self.clock
        self.procs[name] = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])

    clock = 0.0


def kill(stack: Stack, name: str) -> None:
    stack.procs[name].kill()
    stack.procs[name].wait(5)


def test_a_dying_service_is_restarted_with_growing_backoff(tmp_path: Path) -> None:
    stack = FakeStack(data_dir=tmp_path, services=("reports", "notify"), restart_backoff_s=1.0,
                      restart_backoff_cap_s=4.0, stable_after_s=60.0, log_dir=tmp_path / "logs")
    try:
        for name in stack.services:
            stack.start_service(name)
        assert stack.supervise(0.0) == []
        kill(stack, "reports")
        [said] = stack.supervise(0.0)
        assert said.startswith("congdoan: reports exited with code -9; restarting it in 1.0s")
        assert "reports.log" in said
        assert stack.supervise(0.5) == []  # not yet
        stack.clock = 1.0
        [said] = stack.supervise(1.0)
        assert "reports restarted" in said and "restart 1" in said
        assert stack.procs["reports"].poll() is None and stack.procs["notify"].poll() is None
        # dying again soon after: twice the wait, then capped
        delays = []
        for t in (2.0, 10.0, 30.0, 50.0):
            kill(stack, "reports")
            [said] = stack.supervise(t)
            delays.append(said.split("restarting it in ")[1].split("s")[0])
            stack.clock = t + 5
            assert "restarted" in stack.supervise(t + 5)[0]
        assert delays == ["2.0", "4.0", "4.0", "4.0"]
        assert stack.restarts == {"reports": 5}
        # up for longer than stable_after_s: the next death waits the first delay again
        assert stack.supervise(55.0 + 61) == []
        kill(stack, "reports")
        assert "restarting it in 1.0s" in stack.supervise(120.0)[0]
    finally:
        for p in stack.procs.values():
            p.kill()
            p.wait(5)
