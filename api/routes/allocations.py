"""Allocations: an allocation problem in, the optimizer's answer out, every solve kept as a run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import insert, select

from api.deps import Services, ServicesDep, WorkspaceDep
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
from api.solving import problem_errors, solve_json
from api.store import JsonText, Run, owned, package_versions
from api.store.tables import new_id
from api.workers import DeadlineExceeded, WorkerCrashed
from optimizer.result import AllocationResult, SolveStatus
from optimizer.schema import AllocationProblem, Mode, SolverSettings

router = APIRouter(prefix="/allocations", tags=["allocations"])

NOT_SOLVABLE = {
    **BODY_UNREADABLE,
    409: {"model": ConflictBody, "description": "Infeasible (conflicts named) or unbounded."},
    503: {"model": ErrorBody, "description": "The solver's worker died; retry."},
}


@dataclass(frozen=True)
class _Solved:
    """A worker's answer: status and conflicts for the route, the result as JSON text."""

    status: SolveStatus
    conflicts: list[str]
    result_json: str


def _store(
    services: Services,
    workspace: str,
    body: bytes,
    solver: SolverSettings,
    solved: _Solved,
    elapsed: float,
) -> str:
    """Keep a solve as a run (its exact inputs, its result and the package versions); its id.

    The body and the result are stored as the JSON text they already are: the body is the
    one the worker parsed, the result the text the worker wrote.
    """
    run_id = new_id()
    inputs = f'{{"problem": {body.decode()}, "solver": {solver.model_dump_json()}}}'
    with services.database.session() as session:
        session.execute(
            insert(Run).values(
                id=run_id,
                workspace=workspace,
                kind="allocation",
                status=solved.status.value,
                inputs=JsonText(inputs),
                outputs=JsonText(solved.result_json),
                versions=package_versions(),
                elapsed_seconds=elapsed,
            )
        )
    return run_id


def _invalid_body(errors: list[dict[str, Any]]) -> RequestValidationError:
    """The 422 of an invalid problem: pydantic's errors, located under `body`."""
    return RequestValidationError([{**error, "loc": ("body", *error["loc"])} for error in errors])


def _check_problem(body: bytes) -> None:
    """Raise the 422 of an invalid problem. Only for a worker ended past its deadline, which
    may not have finished validating the body: an invalid one is then no time-limit run."""
    try:
        AllocationProblem.model_validate_json(body)
    except ValidationError as error:
        raise _invalid_body(problem_errors(error)) from None


async def _solve(services: Services, body: bytes, solver: SolverSettings) -> _Solved:
    """Validate and solve in a worker; past the time limit plus grace the worker is ended
    (HiGHS overruns). An invalid problem is a 422 with pydantic's locations under `body`."""
    deadline = solver.time_limit_seconds + services.settings.solver_grace_seconds
    started = time.perf_counter()
    try:
        answer = await services.solvers.run(
            solve_json,
            body,
            solver.model_dump_json(),
            services.settings.max_segments,
            deadline_seconds=deadline,
        )
    except DeadlineExceeded:
        await run_in_threadpool(_check_problem, body)
        result = AllocationResult(
            status=SolveStatus.TIME_LIMIT,
            mode=solver.mode,
            solve_seconds=time.perf_counter() - started,
            message=(
                f"HiGHS passed its {solver.time_limit_seconds:g} s time limit without stopping; "
                f"the service ended the solve after {deadline:g} s, with no plan"
            ),
        )
        return _Solved(result.status, [], result.model_dump_json())
    except WorkerCrashed as error:
        raise ServiceUnavailableError(f"the solver's worker died: {error}") from error
    if "errors" in answer:
        raise _invalid_body(answer["errors"])
    if "solver_error" in answer:
        raise invalid(
            ("body",),
            f"the solver failed on this problem ({answer['solver_error']}); keep costs, "
            "values and exponents within the ranges in docs/DESIGN.md",
        )
    return _Solved(SolveStatus(answer["status"]), answer["conflicts"], answer["result"])


PROBLEM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/AllocationProblem"}}
        },
    }
}


@router.post(
    "", responses=NOT_SOLVABLE, response_model=AllocationResult, openapi_extra=PROBLEM_BODY
)
async def create_allocation(
    request: Request,
    services: ServicesDep,
    workspace: WorkspaceDep,
    time_limit_seconds: Annotated[
        float | None,
        Query(gt=0, allow_inf_nan=False, description="Solver time limit; default from settings."),
    ] = None,
    mode: Annotated[
        Mode, Query(description="milp (one point per pair) or lp (convex hull).")
    ] = "milp",
    mip_gap: Annotated[
        float | None,
        Query(ge=0, lt=1, description="Relative MIP gap to stop at; default from settings."),
    ] = None,
    explain: Annotated[
        bool, Query(description="Explain the answer (binding constraints, marginal values).")
    ] = True,
) -> Response:
    """Solve an allocation problem (docs/DESIGN.md schema) and return the plan and why.

    An infeasible problem answers 409 with the smallest set of conflicting constraints by name.
    Every solve is stored: `Location` names it under /v1/allocations/{id}. The body is read as
    JSON text and validated in the solver's worker process (api/solving.py says why).
    """
    settings = services.settings
    limit = time_limit_seconds or settings.solver_time_limit_seconds
    if limit > settings.solver_time_limit_max_seconds:
        raise invalid(
            ("query", "time_limit_seconds"),
            f"at most {settings.solver_time_limit_max_seconds:g} seconds on this service",
            time_limit_seconds,
        )
    gap = settings.solver_mip_gap if mip_gap is None else mip_gap
    solver = SolverSettings(mode=mode, time_limit_seconds=limit, mip_gap=gap, explain=explain)
    body = await request.body()
    started = time.perf_counter()
    solved = await _solve(services, body, solver)
    run_id = await run_in_threadpool(
        _store, services, workspace, body, solver, solved, time.perf_counter() - started
    )
    location = f"/v1/allocations/{run_id}"
    if solved.status is SolveStatus.INFEASIBLE:
        raise ConflictError(
            "the problem is infeasible: the named constraints cannot hold together",
            where=location,
            conflicts=solved.conflicts,
        )
    if solved.status is SolveStatus.UNBOUNDED:
        raise ConflictError(
            "the problem is unbounded: the objective can grow without limit", where=location
        )
    return Response(
        solved.result_json, media_type="application/json", headers={"Location": location}
    )


@router.get("")
def list_allocations(
    services: ServicesDep,
    workspace: WorkspaceDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AllocationRunList:
    """Stored solves, newest first: id, time, status, objective."""
    with services.database.session() as session:
        rows = session.scalars(
            select(Run)
            .where(Run.workspace == workspace, Run.kind == "allocation")
            .order_by(Run.created_at.desc())
            .limit(limit)
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
def get_allocation(
    allocation_id: str, services: ServicesDep, workspace: WorkspaceDep
) -> AllocationRun:
    """One stored solve with its exact problem, solver settings, result and package versions."""
    with services.database.session() as session:
        run = owned(session, Run, allocation_id, workspace)
        if run is None or run.kind != "allocation":
            raise NotFoundError("allocation", allocation_id)
        inputs: dict[str, Any] = run.inputs
        return AllocationRun(
            id=run.id,
            created_at=run.created_at,
            elapsed_seconds=run.elapsed_seconds,
            problem=None
            if run.compacted_at is not None
            else AllocationProblem.model_validate(inputs["problem"]),
            solver=SolverSettings.model_validate(inputs["solver"]),
            result=AllocationResult.model_validate(run.outputs),
            compacted_at=run.compacted_at,
            versions=run.versions,
        )
