"""Worker processes die with the service: Linux's parent-death signal, set in each process.

The service's workers are forked from a forkserver, which every worker keeps alive (each holds
the forkserver's "alive" pipe), so nothing ends them when the service is killed with
SIGKILL: the issue found the forkserver, the resource tracker and busy workers still running
and writing files after a restart. With `die_with_parent` in the forkserver (its parent is
the service) and in every worker (its parent is the forkserver), a killed service takes the
forkserver down and the forkserver its workers; the resource tracker then sees its last
writer close and exits too. Elsewhere than Linux this is a no-op.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent ends (or now, if it has)."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() == 1:  # the parent ended before the signal was asked for
        os.kill(os.getpid(), signal.SIGKILL)
