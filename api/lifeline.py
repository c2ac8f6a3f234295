"""Worker processes die with the service, even when it is killed with SIGKILL.

The service's workers are forked from a forkserver, which every worker keeps alive (each holds
the forkserver's "alive" pipe), so nothing ended them when the service was killed: the issue
found the forkserver, the resource tracker and busy workers still running, and writing files
after a restart. Now the forkserver watches its parent process (`exit_with_parent`) and every
worker asks Linux for SIGKILL when its parent, the forkserver, ends (`die_with_parent`); the
resource tracker then sees its last writer close and exits too.

The forkserver watches with a thread rather than the parent-death signal because that signal
follows the parent *thread*: the thread of the service that happened to start the forkserver
may end long before the service does (a test client's portal thread, a pool's manager thread).
The forkserver's own main thread, which forks the workers, lives as long as it does.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent thread ends (or now, if it has);
    elsewhere a no-op."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() == 1:  # the parent ended before the signal was asked for
        os.kill(os.getpid(), signal.SIGKILL)


def exit_with_parent(poll_seconds: float = 0.1) -> threading.Thread:
    """Exit this process as soon as its parent process is gone (a daemon thread polls the
    parent id, which changes when the parent dies); the watching thread."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(1)

    watcher = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    watcher.start()
    return watcher
