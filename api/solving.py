"""The solve a worker process runs: the request body's JSON text in, the result's JSON text out.

The service process only forwards bytes: the body is parsed and validated once, here, by
pydantic's JSON parser, and the result is serialised once, here, and sent to the client as
it is. Validating in the service as well, then dumping, pickling a dict, re-validating the
result and serialising the response cost the event loop about 18 ms of CPU per 100-segment
request (profiled with pyinstrument), more than the solve itself when no branching is needed.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from optimizer.highs import SolverError
from optimizer.schema import AllocationProblem, SolverSettings
from optimizer.solve import solve


def problem_errors(error: ValidationError) -> list[dict[str, Any]]:
    """pydantic's type, loc and msg of each error of an invalid problem (picklable)."""
    return error.errors(include_url=False, include_context=False, include_input=False)


def solve_json(problem_json: bytes, settings_json: str, max_segments: int) -> dict[str, Any]:
    """`optimizer.solve` on a problem given as JSON text, of at most `max_segments` segments.

    Returns `{"errors": [...]}` (pydantic's type, loc and msg of each error) for an invalid or
    too large problem, `{"solver_error": message}` when HiGHS fails on it (numbers it cannot
    take), else `{"status", "conflicts", "result"}` with the result as JSON text.
    """
    try:
        problem = AllocationProblem.model_validate_json(problem_json)
    except ValidationError as error:
        return {"errors": problem_errors(error)}
    if len(problem.segments) > max_segments:
        message = f"at most {max_segments} segments per problem on this service"
        return {"errors": [{"type": "too_long", "loc": ("segments",), "msg": message}]}
    try:
        result = solve(problem, SolverSettings.model_validate_json(settings_json))
    except (SolverError, ArithmeticError, ValueError) as error:
        return {"solver_error": str(error)}
    return {
        "status": result.status.value,
        "conflicts": result.conflicts,
        "result": result.model_dump_json(),
    }
