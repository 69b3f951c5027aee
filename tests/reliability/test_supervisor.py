"""`shopflow dev` and its children: none outlives the supervisor, not even when the supervisor is
SIGKILLed (a leftover worker once served the next stack's queues from a deleted database), and
Ctrl-C stops the supervisor and every child together within one bound.

The store is started by the real supervisor (`python -m workers.cli dev`, tests/support/store.py)
on free 127.0.0.1 ports with its own data directory. Everything is signalled by PID; a child that
survives a test is killed by its PID (psutil checks the PID was not reused) in a `finally`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil
import pytest

from tests.support.store import launched_store, running_store, tail, wait_until

DIE_WITH_SUPERVISOR_SECONDS = 5.0
CTRL_C_BOUND_SECONDS = 20.0
CHILDREN = 8  # Temporal, mail, SMS, couriers, bank, the sign-in provider, worker, API


def descendants(pid: int) -> dict[psutil.Process, str]:
    """Every process below `pid`, each with its command line (read now: it may be gone later)."""
    found: dict[psutil.Process, str] = {}
    for process in psutil.Process(pid).children(recursive=True):
        try:
            found[process] = " ".join(process.cmdline())
        except psutil.NoSuchProcess:
            continue
    return found


def _zombie(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def still_running(processes: Iterable[psutil.Process], timeout: float) -> list[psutil.Process]:
    """The processes still alive after waiting at most `timeout` for all of them. A zombie has
    exited: orphans are reaped by PID 1, whenever it gets to it."""
    _gone, alive = psutil.wait_procs(list(processes), timeout=timeout)
    return [process for process in alive if not _zombie(process)]


def kill_survivors(processes: Iterable[psutil.Process]) -> None:
    for process in processes:
        try:
            if process.is_running() and not _zombie(process):
                process.kill()  # by PID; psutil refuses a PID reused by another process
        except psutil.NoSuchProcess:
            continue


def _describe(alive: Iterable[psutil.Process], commands: dict[psutil.Process, str]) -> str:
    return "; ".join(f"pid {process.pid}: {commands[process]}" for process in alive)


@pytest.mark.timeout(180)
def test_no_child_outlives_a_killed_supervisor(tmp_path: Path) -> None:
    with running_store(tmp_path) as (store, supervisor):
        commands = descendants(supervisor.pid)
        try:
            assert len(psutil.Process(supervisor.pid).children()) == CHILDREN, commands
            os.kill(supervisor.pid, signal.SIGKILL)
            supervisor.wait()
            alive = still_running(commands, DIE_WITH_SUPERVISOR_SECONDS)
            assert not alive, (
                f"still running {DIE_WITH_SUPERVISOR_SECONDS:.0f} s after the supervisor was"
                f" killed: {_describe(alive, commands)}\nlog:\n{tail(store.log_path)}"
            )
        finally:
            kill_survivors(commands)


def ctrl_c(supervisor: subprocess.Popen[bytes], log_path: Path) -> float:
    """Ctrl-C to the supervisor by its PID; asserts it and every process below it are gone within
    CTRL_C_BOUND_SECONDS, and returns how long that took."""
    commands = descendants(supervisor.pid)
    try:
        started = time.monotonic()
        os.kill(supervisor.pid, signal.SIGINT)
        try:
            supervisor.wait(timeout=CTRL_C_BOUND_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"the supervisor still runs {CTRL_C_BOUND_SECONDS:.0f} s after Ctrl-C;"
                f" log:\n{tail(log_path)}"
            )
        remaining = max(0.0, started + CTRL_C_BOUND_SECONDS - time.monotonic())
        alive = still_running(commands, remaining)
        took = time.monotonic() - started
        assert not alive, f"still running after Ctrl-C: {_describe(alive, commands)}"
    finally:
        kill_survivors(commands)
    return took


@pytest.mark.timeout(180)
def test_ctrl_c_stops_the_supervisor_and_every_child_together(
    tmp_path: Path,
    record_property: Callable[[str, object], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    with running_store(tmp_path) as (store, supervisor):
        assert len(psutil.Process(supervisor.pid).children()) == CHILDREN, descendants(
            supervisor.pid
        )
        took = ctrl_c(supervisor, store.log_path)
    record_property("stop_seconds", round(took, 2))
    with capsys.disabled():
        print(f"\nshopflow dev stopped by Ctrl-C in {took:.2f} s (bound {CTRL_C_BOUND_SECONDS} s)")
    log = store.log_path.read_text(encoding="utf-8", errors="replace")
    assert supervisor.returncode == 0, tail(store.log_path)
    assert "killing it" not in log, f"a child had to be killed:\n{tail(store.log_path)}"


@pytest.mark.timeout(180)
def test_ctrl_c_while_the_store_starts_stops_what_started_without_a_traceback(
    tmp_path: Path,
) -> None:
    """A shopper's Ctrl-C, or a test's stop, may come before the last child answers (on a busy
    machine the API answered /healthz before the supervisor had seen its port): the start ends,
    what started stops, exit 0 and no KeyboardInterrupt traceback."""
    with launched_store(tmp_path) as (store, supervisor):
        # Temporal is up and the supervisor is between children.
        wait_until(
            supervisor,
            store.log_path,
            lambda: "starting mail emulator" in tail(store.log_path),
            "the mail emulator was starting",
        )
        ctrl_c(supervisor, store.log_path)
    log = store.log_path.read_text(encoding="utf-8", errors="replace")
    assert supervisor.returncode == 0, tail(store.log_path)
    assert "Traceback" not in log, tail(store.log_path)
    assert "SIGINT while starting" in log, tail(store.log_path)
