"""The worker pool ends a task at its deadline and keeps serving afterwards; its workers spare
the GC the objects they inherit and run HiGHS on one thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import os
import time
from pathlib import Path

import highspy
import pytest

from api.workers import DeadlineExceeded, WorkerPool
from optimizer import AllocationProblem, SolveStatus, solve


def _report_pid_and_sleep(path: str) -> None:
    """A task that never ends by itself: write its process id to `path`, then sleep."""
    Path(path).write_text(str(os.getpid()))
    time.sleep(60)


def _process_exists(pid: int) -> bool:
    """Whether a process with this id still runs (signal 0 checks without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_deadline_ends_a_stuck_task_and_the_pool_recovers(tmp_path: Path) -> None:
    """Not before the deadline, within 2 s after it, and by ending the
    worker process rather than leaving it to run; the next task gets a fresh worker."""
    pool = WorkerPool(1)
    marker = tmp_path / "pid"

    async def scenario() -> tuple[float, int]:
        await pool.start()  # the forkserver's imports take seconds: not part of the deadline
        started = time.perf_counter()
        with pytest.raises(DeadlineExceeded, match="deadline of 0.5 s"):
            await pool.run(_report_pid_and_sleep, str(marker), deadline_seconds=0.5)
        stopped_after = time.perf_counter() - started
        assert await pool.run(sum, [1, 2, 3], deadline_seconds=30) == 6
        return stopped_after, await pool.run(os.getpid, deadline_seconds=30)

    try:
        stopped_after, next_worker = asyncio.run(scenario())
    finally:
        pool.close()
    stuck = int(marker.read_text())
    assert 0.5 <= stopped_after < 2.5
    assert next_worker != stuck
    assert not _process_exists(stuck)


def test_workers_keep_inherited_objects_out_of_garbage_collections() -> None:
    pool = WorkerPool(1)
    try:
        frozen = asyncio.run(pool.run(gc.get_freeze_count, deadline_seconds=30))
    finally:
        pool.close()
    assert frozen > 10_000


def _highs_threads_after_a_solve() -> str:
    """A task: solve an allocation problem, then ask HiGHS for two threads; HiGHS sizes its
    thread pool at a process's first run and refuses a later run that wants more."""
    problem = AllocationProblem.model_validate(
        {
            "budget": {"total": 100.0},
            "segments": [
                {
                    "id": "loyal-top",
                    "value_per_conversion": 50.0,
                    "channels": [
                        {
                            "channel": "search",
                            "landscape": [
                                {"bid_multiplier": 1.0, "cost": 60.0, "conversions": 3.0},
                                {"bid_multiplier": 1.5, "cost": 90.0, "conversions": 4.0},
                            ],
                        }
                    ],
                }
            ],
        }
    )
    assert solve(problem).status is SolveStatus.OPTIMAL
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 2)
    highs.addVar(0.0, 1.0)
    return highs.run().name


def test_workers_run_highs_on_one_thread() -> None:
    pool = WorkerPool(1)
    try:
        status = asyncio.run(pool.run(_highs_threads_after_a_solve, deadline_seconds=30))
    finally:
        pool.close()
    assert status == "kError"


def test_racing_starts_share_one_start_and_the_pool_serves() -> None:
    """Requests that arrive together while the workers are still starting all wait on the same
    start (one no-op task, not one per request), and the pool then runs their tasks."""
    pool = WorkerPool(1)

    async def scenario() -> list[int]:
        await asyncio.gather(*(pool.start() for _ in range(8)))
        return await asyncio.gather(*(pool.run(abs, -n, deadline_seconds=30) for n in range(4)))

    try:
        with concurrent.futures.ThreadPoolExecutor(8) as threads:
            starts = set(threads.map(lambda _: id(pool._start_once()), range(8)))
        assert len(starts) == 1
        assert asyncio.run(scenario()) == [0, 1, 2, 3]
    finally:
        pool.close()
