"""Retention of stored allocation runs: past an age or a count, a run keeps its summary only.

Every solve is stored for reproduction (problem and plan): issue 16 found 174 MB after about
1,300 solves. With `CLVBID_RUN_RETENTION_DAYS`
and/or `CLVBID_RUN_RETENTION_COUNT` set, a run older than that many days, or not among its
workspace's newest that many, is compacted: its problem and the plan (allocations,
explanation) are dropped; its id, time, status, solver settings and the result's summary
(objective, gap, totals, conflicts, message) stay, so lists and reports keep working. The
pass runs at start-up and every RETENTION_INTERVAL_SECONDS after, in a thread, and reads only
runs not yet compacted, through the index `ix_runs_retention`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update

from api.store import Database, Run
from api.store.tables import utc_now

RETENTION_INTERVAL_SECONDS = 300.0
BATCH = 200  # runs read and rewritten per transaction
SUMMARY_FIELDS = ("status", "mode", "objective", "gap", "solve_seconds", "totals", "conflicts")


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """What a compacted run keeps of its result: the fields above, and a message saying so."""
    kept = {name: result[name] for name in SUMMARY_FIELDS if name in result}
    message = result.get("message") or ""
    note = "compacted by the run retention settings: the plan and the problem were dropped"
    return kept | {"message": f"{message}; {note}" if message else note}


def _count_cutoffs(database: Database, count: int) -> dict[str, dt.datetime]:
    """Per workspace, the time of its `count`-th newest allocation run (older ones compact)."""
    cutoffs = {}
    with database.session() as session:
        workspaces = session.scalars(
            select(Run.workspace).where(Run.kind == "allocation").distinct()
        ).all()
        for workspace in workspaces:
            boundary = session.scalars(
                select(Run.created_at)
                .where(Run.kind == "allocation", Run.workspace == workspace)
                .order_by(Run.created_at.desc())
                .offset(count - 1)
                .limit(1)
            ).first()
            if boundary is not None:
                cutoffs[workspace] = boundary
    return cutoffs


def _compact_before(database: Database, cutoff: dt.datetime, workspace: str | None) -> int:
    """Compact every allocation run created before `cutoff` (of `workspace`, or of all)."""
    compacted = 0
    while True:
        with database.session() as session:
            query = (
                select(Run.id, Run.inputs, Run.outputs)
                .where(
                    Run.kind == "allocation",
                    Run.compacted_at.is_(None),
                    Run.created_at < cutoff,
                )
                .limit(BATCH)
            )
            if workspace is not None:
                query = query.where(Run.workspace == workspace)
            rows = session.execute(query).all()
            now = utc_now()
            for run_id, inputs, outputs in rows:
                session.execute(
                    update(Run)
                    .where(Run.id == run_id)
                    .values(
                        inputs={"solver": inputs.get("solver")},
                        outputs=summary(outputs),
                        compacted_at=now,
                    )
                )
        compacted += len(rows)
        if len(rows) < BATCH:
            return compacted


def compact_runs(
    database: Database,
    *,
    days: float | None,
    count: int | None,
    now: dt.datetime | None = None,
) -> int:
    """Compact the allocation runs older than `days` or beyond each workspace's newest
    `count` (either may be None: no limit of that kind); how many were compacted."""
    compacted = 0
    if days is not None:
        cutoff = (now or utc_now()) - dt.timedelta(days=days)
        compacted += _compact_before(database, cutoff, None)
    if count is not None:
        for workspace, cutoff in _count_cutoffs(database, count).items():
            compacted += _compact_before(database, cutoff, workspace)
    return compacted


async def keep_compacting(database: Database, days: float | None, count: int | None) -> None:
    """Run `compact_runs` now and then every RETENTION_INTERVAL_SECONDS, off the event loop,
    until cancelled (the service's lifespan ends)."""
    while True:
        await run_in_threadpool(compact_runs, database, days=days, count=count)
        await asyncio.sleep(RETENTION_INTERVAL_SECONDS)
