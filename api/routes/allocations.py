"""Allocations: an allocation problem in, the optimizer's answer out, every solve kept as a run."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from api.deps import Services, ServicesDep
from api.errors import (
    BODY_UNREADABLE,
    ConflictBody,
    ConflictError,
    ErrorBody,
    NotFoundError,
    ServiceUnavailableError,
    invalid,
)
from api.schemas import AllocationRun, AllocationRunList, AllocationRunSummary
from api.solving import solve_json
from api.store import Run, package_versions
from api.workers import DeadlineExceeded, WorkerCrashed
from optimizer.result import AllocationResult, SolveStatus
from optimizer.schema import AllocationProblem, Mode, SolverSettings

router = APIRouter(prefix="/allocations", tags=["allocations"])

NOT_SOLVABLE = {
    **BODY_UNREADABLE,
    409: {"model": ConflictBody, "description": "Infeasible (conflicts named) or unbounded."},
    503: {"model": ErrorBody, "description": "The solver's worker died; retry."},
}


def _store(
    services: Services, inputs: dict[str, Any], result: AllocationResult, elapsed: float
) -> Run:
    """Keep a solve as a run: its exact inputs, its result and the package versions."""
    run = Run(
        kind="allocation",
        status=result.status.value,
        inputs=inputs,
        outputs=result.model_dump(mode="json"),
        versions=package_versions(),
        elapsed_seconds=elapsed,
    )
    with services.database.session() as session:
        session.add(run)
    return run


async def _solve(
    services: Services, inputs: dict[str, Any], solver: SolverSettings
) -> AllocationResult:
    """Solve in a worker; past the time limit plus grace the worker is ended (HiGHS overruns)."""
    deadline = solver.time_limit_seconds + services.settings.solver_grace_seconds
    started = time.perf_counter()
    try:
        answer = await services.solvers.run(
            solve_json, inputs["problem"], inputs["solver"], deadline_seconds=deadline
        )
        return AllocationResult.model_validate(answer)
    except DeadlineExceeded:
        return AllocationResult(
            status=SolveStatus.TIME_LIMIT,
            mode=solver.mode,
            solve_seconds=time.perf_counter() - started,
            message=(
                f"HiGHS passed its {solver.time_limit_seconds:g} s time limit without stopping; "
                f"the service ended the solve after {deadline:g} s, with no plan"
            ),
        )
    except WorkerCrashed as error:
        raise ServiceUnavailableError(f"the solver's worker died: {error}") from error


@router.post("", responses=NOT_SOLVABLE)
async def create_allocation(
    problem: AllocationProblem,
    services: ServicesDep,
    response: Response,
    time_limit_seconds: Annotated[
        float | None,
        Query(gt=0, allow_inf_nan=False, description="Solver time limit; default from settings."),
    ] = None,
    mode: Annotated[
        Mode, Query(description="milp (one point per pair) or lp (convex hull).")
    ] = "milp",
    mip_gap: Annotated[float, Query(ge=0, lt=1, description="Relative MIP gap to stop at.")] = 1e-4,
    explain: Annotated[
        bool, Query(description="Explain the answer (binding constraints, marginal values).")
    ] = True,
) -> AllocationResult:
    """Solve an allocation problem (docs/DESIGN.md schema) and return the plan and why.

    An infeasible problem answers 409 with the smallest set of conflicting constraints by name.
    Every solve is stored: `Location` names it under /v1/allocations/{id}.
    """
    settings = services.settings
    limit = time_limit_seconds or settings.solver_time_limit_seconds
    if limit > settings.solver_time_limit_max_seconds:
        raise invalid(
            ("query", "time_limit_seconds"),
            f"at most {settings.solver_time_limit_max_seconds:g} seconds on this service",
            time_limit_seconds,
        )
    solver = SolverSettings(mode=mode, time_limit_seconds=limit, mip_gap=mip_gap, explain=explain)
    inputs = {"problem": problem.model_dump(mode="json"), "solver": solver.model_dump(mode="json")}
    started = time.perf_counter()
    result = await _solve(services, inputs, solver)
    run = await run_in_threadpool(_store, services, inputs, result, time.perf_counter() - started)
    location = f"/v1/allocations/{run.id}"
    if result.status is SolveStatus.INFEASIBLE:
        raise ConflictError(
            "the problem is infeasible: the named constraints cannot hold together",
            where=location,
            conflicts=result.conflicts,
        )
    if result.status is SolveStatus.UNBOUNDED:
        raise ConflictError(
            "the problem is unbounded: the objective can grow without limit", where=location
        )
    response.headers["Location"] = location
    return result


@router.get("")
def list_allocations(
    services: ServicesDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> AllocationRunList:
    """Stored solves, newest first: id, time, status, objective."""
    with services.database.session() as session:
        rows = session.scalars(
            select(Run).where(Run.kind == "allocation").order_by(Run.created_at.desc()).limit(limit)
        )
        return AllocationRunList(
            runs=[
                AllocationRunSummary(
                    id=run.id,
                    created_at=run.created_at,
                    status=run.status,
                    objective=run.outputs.get("objective"),
                    elapsed_seconds=run.elapsed_seconds,
                )
                for run in rows
            ]
        )


@router.get("/{allocation_id}", responses={404: {"model": ErrorBody}})
def get_allocation(allocation_id: str, services: ServicesDep) -> AllocationRun:
    """One stored solve with its exact problem, solver settings, result and package versions."""
    with services.database.session() as session:
        run = session.get(Run, allocation_id)
        if run is None or run.kind != "allocation":
            raise NotFoundError("allocation", allocation_id)
        inputs: dict[str, Any] = run.inputs
        return AllocationRun(
            id=run.id,
            created_at=run.created_at,
            elapsed_seconds=run.elapsed_seconds,
            problem=AllocationProblem.model_validate(inputs["problem"]),
            solver=SolverSettings.model_validate(inputs["solver"]),
            result=AllocationResult.model_validate(run.outputs),
            versions=run.versions,
        )
