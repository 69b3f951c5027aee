"""Child processes that die with their parent and stop together within one bound.

`die_with_parent()` builds a `preexec_fn` for `subprocess.Popen`: the kernel SIGKILLs the child
when the process that started it dies, even by SIGKILL (Linux `prctl(PR_SET_PDEATHSIG)`), so no
worker, server or emulator outlives its supervisor. `stop_all()` signals every child at once and
waits for all of them with one overall bound, then kills and reaps the survivors.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("shopflow.processes")

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_BOUND_SECONDS = 10.0
_POLL_SECONDS = 0.02


def die_with_parent() -> Callable[[], None]:
    """A `preexec_fn` making the child die (SIGKILL) when the calling process dies.

    Call it in the parent, right before `Popen` (it captures the parent's pid and resolves
    `prctl` before the fork, so the child runs no dynamic loading). The death signal fires when
    the *thread* that forked exits: start children from a thread that lives as long as the
    parent (the main thread). If the parent died between the fork and `prctl`, the child was
    already re-parented and exits at once instead of running unsupervised.
    """
    parent_pid = os.getpid()
    if not sys.platform.startswith("linux"):
        return _nothing
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def preexec() -> None:
        if prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
        if os.getppid() != parent_pid:
            os._exit(1)  # the parent is already gone: nobody would ever stop this child

    return preexec


def _nothing() -> None:
    return None


def stop_all(
    processes: Iterable[tuple[str, subprocess.Popen[Any]]],
    sig: int = signal.SIGTERM,
    bound: float = STOP_BOUND_SECONDS,
) -> list[str]:
    """Send `sig` to every running process at once, wait for all of them together at most
    `bound` seconds, then SIGKILL the survivors and reap every one. Returns the names of the
    processes that had to be killed (each is also logged)."""
    running = [(name, process) for name, process in processes if process.poll() is None]
    started = time.monotonic()
    for _name, process in running:
        process.send_signal(sig)  # a process that exited meanwhile is skipped by Popen
    deadline = started + bound
    waiting = list(running)
    while waiting and time.monotonic() < deadline:
        still = []
        for name, process in waiting:
            if process.poll() is None:
                still.append((name, process))
            else:
                log.info(
                    "%s stopped in %.2f s (exit %s)",
                    name,
                    time.monotonic() - started,
                    process.returncode,
                )
        waiting = still
        if waiting:
            time.sleep(_POLL_SECONDS)
    killed = []
    for name, process in waiting:
        if process.poll() is None:
            log.warning(
                "%s (pid %s) did not stop within %.0f s of %s; killing it",
                name,
                process.pid,
                bound,
                signal.Signals(sig).name,
            )
            process.kill()
            killed.append(name)
    for _name, process in running:
        process.wait()
    return killed
