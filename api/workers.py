"""Worker processes for solves and fits, so the event loop keeps answering while they work.

HiGHS does not stop promptly at its own time limit (shared/HIGHS_NOTES.md), so every task
carries a deadline after which its worker process is ended; pebble's process pool does that
and otherwise behaves as a `concurrent.futures` executor.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

from api.lifeline import die_with_parent
from optimizer.highs import use_threads

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """A task ran past its deadline and its worker process was ended."""

    def __init__(self, deadline_seconds: float) -> None:
        super().__init__(f"stopped after its deadline of {deadline_seconds:g} s")
        self.deadline_seconds = deadline_seconds


class WorkerCrashed(Exception):
    """A worker process died while running a task (out of memory, a crash in native code)."""


# What the forkserver imports once for every worker it forks: the solver, and the data stack
# the tasks import inside their bodies (the service process itself imports none of it).
PRELOAD = [
    "api.forkserver_lifeline",
    "api.solving",
    "api.tasks",
    "api.dashboard.lifecycle",
    "api.scenario_runs",
    "models.customers",
    "models.audiences.lookalike",
    "models.audiences.movers",
    "models.valuation",
    "scenarios.runner",
    "scenarios.outputs",
]


def _start_worker() -> None:
    """Prepare a new worker process before its first task.

    HiGHS runs on one thread (`use_threads`): workers share the cores with each other and the
    service, so a second thread only competes with them; at the default MIP gap it cost a
    100-segment solve 155 ms of CPU instead of 114 ms, for the same single-client latency,
    and 20 clients got 12.5 instead of 16.7 solves/s (bench_api). And what the worker inherits
    from the forkserver (the preloaded modules, about 120,000 objects) moves to the garbage
    collector's permanent generation, so the collections a solve's Pyomo objects trigger skip
    it: 3.3 of 15.5 ms of a solve's CPU went to the collector before, 1.5 ms after. And the
    worker dies with the forkserver, which dies with the service (api.lifeline).
    """
    die_with_parent()
    use_threads(1)
    gc.freeze()


def _ready() -> bool:
    """A task that does nothing: the pool starts every worker process to run it."""
    return True


class WorkerPool:
    """A pool of worker processes; `run` awaits one task with an optional deadline.

    Workers are forked from a forkserver that has already imported the task modules (numpy,
    highspy, duckdb, the models), so a new or replaced worker starts in milliseconds, and no
    worker inherits the threads of the service process.
    """

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        self.size = workers
        self._pool = ProcessPool(max_workers=workers, context=context, initializer=_start_worker)
        self._started: concurrent.futures.Future[None] | None = None
        self._starting = threading.Lock()
        self.busy = 0  # tasks submitted through `run` and not answered yet

    async def run(
        self, function: Callable[..., T], *args: Any, deadline_seconds: float | None = None
    ) -> T:
        """Run `function(*args)` in a worker; its worker is ended once it passes the deadline."""
        self.busy += 1
        try:
            await self.start()
            future = self._pool.schedule(function, args=args, timeout=deadline_seconds)
            return await asyncio.wrap_future(future)
        except FutureTimeout as error:
            raise DeadlineExceeded(deadline_seconds or 0.0) from error
        except ProcessExpired as error:
            raise WorkerCrashed(f"worker process ended with exit code {error.exitcode}") from error
        except BrokenExecutor as error:
            raise WorkerCrashed(f"no worker process could start: {error}") from error
        finally:
            self.busy -= 1

    async def start(self) -> None:
        """Start the worker processes (once; later calls wait for that start).

        pebble forks a pool's workers in the thread of its first `schedule`, and each fork
        waits for the forkserver to import the solver and data stack (PRELOAD): seconds, or
        tens of seconds on a loaded machine. Done on the event loop, that kept /healthz and
        every request waiting (server start to healthy took 13 s); done in a thread, the
        service answers at once and only tasks of a pool still starting wait for it.
        """
        started = self._started or await asyncio.to_thread(self._start_once)
        await asyncio.wrap_future(started)

    def _start_once(self) -> concurrent.futures.Future[None]:
        """Schedule the no-op task that forks the workers, exactly once however many requests
        race here; its future is thread-safe, so any event loop (two test clients of one app)
        can wait on it."""
        with self._starting:
            if self._started is None:
                self._started = self._pool.schedule(_ready)
            return self._started

    def close(self) -> None:
        """Stop every worker (running tasks included) and wait for them."""
        if self._started is not None:
            self._started.cancel()
        self._pool.stop()
        self._pool.join()
