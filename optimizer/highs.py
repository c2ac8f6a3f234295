"""The Pyomo model compiled to a matrix and loaded into HiGHS (highspy), and runs on it.

Pyomo's `LinearStandardFormCompiler` (the vectorised linear-representation walker behind its
LP and NL writers) turns the model into A, bounds and c in one pass; highspy takes the CSC
matrix in one `passModel`. At 10,000 pairs x 9 points that is 0.6 s where appsi's `Highs`
needed about 4 s (it walks every expression for new variables and loads columns one constraint
at a time), see docs/optimizer.md. Relaxing integrality, MIP starts, duals and the conflict
search then all work on that same highspy object; rows keep their Pyomo constraint for names.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import cached_property

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from numpy.typing import NDArray
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.core.base.constraint import ConstraintData
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimizer.formulation import Formulation
from optimizer.result import SolveStatus

Vector = NDArray[np.float64]
_FEASIBILITY_TOL = 1e-6
_INF = highspy.kHighsInf
_Status = highspy.HighsModelStatus
# Options every run in this process gets; HiGHS sizes its thread pool once per process.
_PROCESS_OPTIONS: dict[str, object] = {"output_flag": False}


def rows_hold(activity: Vector, lower: Vector, upper: Vector) -> NDArray[np.bool_]:
    """Per row, whether its activity lies within its bounds, up to a relative tolerance."""
    slack = _FEASIBILITY_TOL * (1.0 + np.abs(activity))
    return (activity >= lower - slack) & (activity <= upper + slack)


def use_threads(threads: int) -> None:
    """Give every later HiGHS run in this process `threads` threads; call it before the first
    run. A pool of solver processes, one solve per core, wants 1: on a 100-pair branch and
    bound two threads cost 115 ms of CPU where one costs 79 ms, for the same wall time."""
    _PROCESS_OPTIONS["threads"] = threads


class ConstantRowsInfeasible(ValueError):
    """Rows without a variable left that cannot hold (for example a bid floor above every
    landscape point): each is a conflict on its own."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


class SolverError(RuntimeError):
    """HiGHS failed (not an infeasible or unbounded model: those are results)."""


@dataclass(frozen=True)
class Run:
    """One HiGHS run: its model status, the primal values when there are any, the objective,
    the best bound (MILP) and the row duals (LP)."""

    status: highspy.HighsModelStatus
    values: Vector | None
    objective: float | None
    bound: float | None
    row_dual: Vector | None
    seconds: float


def solve_status(run: Run) -> SolveStatus:
    """Map a HiGHS model status to the result's status; solver failures raise."""
    mapping = {
        _Status.kOptimal: SolveStatus.OPTIMAL,
        _Status.kInfeasible: SolveStatus.INFEASIBLE,
        # every column is bounded, so "unbounded or infeasible" can only be infeasible
        _Status.kUnboundedOrInfeasible: SolveStatus.INFEASIBLE,
        _Status.kUnbounded: SolveStatus.UNBOUNDED,
        _Status.kTimeLimit: SolveStatus.TIME_LIMIT,
    }
    if run.status in mapping:
        return mapping[run.status]
    if run.status in (_Status.kIterationLimit, _Status.kInterrupt, _Status.kSolutionLimit):
        return SolveStatus.FEASIBLE if run.values is not None else SolveStatus.TIME_LIMIT
    raise SolverError(f"HiGHS stopped with {run.status.name}")


@dataclass
class LoadedModel:
    """A formulation inside HiGHS: the highspy object, the HiGHS column of each grid column,
    the column of each `on[s]`, and the Pyomo constraint behind every row."""

    highs: highspy.Highs
    x_columns: NDArray[np.int64]
    active_columns: dict[str, int]
    rows: list[ConstraintData]
    integrality: NDArray[np.uint8]
    maximize: bool
    integer: bool = True
    _names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, formulation: Formulation) -> LoadedModel:
        """Compile the Pyomo model to standard form and pass the matrix to HiGHS."""
        model = formulation.model
        try:
            form = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
        except InfeasibleConstraintException:
            raise ConstantRowsInfeasible(_constant_conflicts(model)) from None
        column = {id(v): j for j, v in enumerate(form.columns)}
        x_columns = np.fromiter((column[id(v)] for v in formulation.x), dtype=np.int64)
        active = getattr(model, "on", None)
        active_columns = (
            {} if active is None else {key: column[id(var)] for key, var in active.items()}
        )
        kinds = np.fromiter((row.bound_type for row in form.rows), dtype=np.int64)
        rhs = np.asarray(form.rhs, dtype=np.float64)
        bounds = np.array([v.bounds for v in form.columns], dtype=np.float64)
        integrality = np.fromiter((v.is_integer() for v in form.columns), dtype=np.uint8)
        maximize = next(iter(form.objectives)).sense == pyo.maximize
        matrix = sp.csc_matrix(form.A)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(form.columns), len(form.rows)
        lp.col_cost_ = np.asarray(form.c.toarray()).ravel() if lp.num_col_ else []
        lp.col_lower_, lp.col_upper_ = bounds[:, 0], bounds[:, 1]
        lp.row_lower_ = np.where(kinds == 1, -_INF, rhs)
        lp.row_upper_ = np.where(kinds == -1, _INF, rhs)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr, matrix.indices
        lp.a_matrix_.value_ = matrix.data
        lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.passModel(lp)
        loaded = cls(
            highs=highs,
            x_columns=x_columns,
            active_columns=active_columns,
            rows=[row.constraint for row in form.rows],
            integrality=integrality,
            maximize=maximize,
        )
        loaded.set_integer(True)
        return loaded

    def row_name(self, i: int) -> str:
        """The Pyomo name of row i (`channel_cap[search]`)."""
        if i not in self._names:
            self._names[i] = self.rows[i].name
        return self._names[i]

    def row_family(self, i: int) -> str:
        """The constraint family of row i (`channel_cap`), cheap for every row."""
        return self.rows[i].parent_component().local_name

    @property
    def n_columns(self) -> int:
        return int(self.highs.getNumCol())

    def set_integer(self, integer: bool) -> None:
        """Switch between the MILP and its LP relaxation on the same matrix.

        The previous run's solver state is cleared: HiGHS 1.16.0 otherwise carries the LP's
        solution into branch and bound and reports a plan whose objective does not match it
        (found by tests/optimizer/test_brute_force.py).
        """
        n = self.n_columns
        flags = self.integrality if integer else np.zeros(n, dtype=np.uint8)
        if n and self.integrality.any():
            self.highs.changeColsIntegrality(n, np.arange(n, dtype=np.int32), flags)
            self.highs.clearSolver()
        self.integer = integer and bool(self.integrality.any())

    def run(self, options: dict[str, object], deadline: float) -> Run:
        """Run HiGHS with `options` (on top of its defaults: options given to an earlier run do
        not carry over) and the time left until `deadline` (perf_counter)."""
        highs = self.highs
        highs.resetOptions()
        for name, value in {**_PROCESS_OPTIONS, **options}.items():
            highs.setOptionValue(name, value)
        highs.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1e-3))
        started = time.perf_counter()
        highs.run()
        seconds = time.perf_counter() - started
        status = highs.getModelStatus()
        info = highs.getInfo()
        solution = highs.getSolution()
        has_values = info.primal_solution_status == 2
        values = np.array(solution.col_value) if has_values else None
        bound = info.mip_dual_bound if self.integer else info.objective_function_value
        return Run(
            status=status,
            values=values,
            objective=info.objective_function_value if has_values else None,
            bound=bound if has_values and math.isfinite(bound) else None,
            row_dual=np.array(solution.row_dual) if solution.dual_valid else None,
            seconds=seconds,
        )

    @cached_property
    def matrix(self) -> tuple[sp.csr_matrix, Vector, Vector, Vector]:
        """(A, row lower, row upper, objective) of the matrix as loaded."""
        lp = self.highs.getLp()
        a = lp.a_matrix_
        parts = (np.array(a.value_), np.array(a.index_), np.array(a.start_))
        shape = (lp.num_row_, lp.num_col_)
        if a.format_ == highspy.MatrixFormat.kColwise:
            matrix = sp.csc_matrix(parts, shape=shape).tocsr()
        else:
            matrix = sp.csr_matrix(parts, shape=shape)
        return (
            matrix,
            np.array(lp.row_lower_),
            np.array(lp.row_upper_),
            np.array(lp.col_cost_),
        )

    def is_feasible(self, values: Vector) -> bool:
        """Whether `values` (0/1 by construction) satisfies every row of the loaded matrix."""
        matrix, lower, upper, _ = self.matrix
        rows_ok = np.all(rows_hold(matrix @ values, lower, upper))
        return bool(rows_ok and np.all(values >= -_FEASIBILITY_TOL))

    def objective_of(self, values: Vector) -> float:
        """The objective at `values`."""
        return float(np.dot(self.matrix[3], values))

    def set_start(self, values: Vector) -> None:
        """Give HiGHS a MIP start."""
        n = len(values)
        self.highs.setSolution(
            n, np.arange(n, dtype=np.int32), np.asarray(values, dtype=np.float64)
        )


def _constant_conflicts(model: pyo.ConcreteModel) -> list[str]:
    """Names of rows whose every coefficient is zero and whose bounds exclude zero."""
    names = []
    for row in model.component_data_objects(pyo.Constraint, active=True):
        body = row.body
        if isinstance(body, LinearExpression) and not any(body.linear_coefs):
            low, high = row.lb, row.ub
            if (low is not None and low > 0) or (high is not None and high < 0):
                names.append(row.name)
    return names
