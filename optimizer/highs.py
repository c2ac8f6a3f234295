"""The Pyomo model loaded into HiGHS through Pyomo's appsi interface, and runs on it.

appsi's `Highs` builds the HiGHS matrix straight from the Pyomo model (the fastest of Pyomo's
two HiGHS interfaces here, see docs/optimizer.md). Relaxing integrality, giving a MIP start,
reading duals and asking for an IIS all happen on that same matrix, through the highspy object
appsi keeps: appsi has no public accessor for it or for its row and column maps, so this module
is the one place that touches those attributes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cached_property

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from pyomo.contrib.appsi.solvers import Highs as AppsiHighs

from optimizer.formulation import Formulation

Vector = NDArray[np.float64]
_FEASIBILITY_TOL = 1e-6


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


@dataclass
class LoadedModel:
    """A formulation inside HiGHS: the highspy object, the HiGHS column of each grid column,
    the column of each `active[s]`, and the Pyomo name of every row."""

    highs: highspy.Highs
    x_columns: NDArray[np.int64]
    active_columns: dict[str, int]
    row_names: list[str]
    integrality: NDArray[np.uint8]
    maximize: bool
    integer: bool = True

    @classmethod
    def load(cls, formulation: Formulation) -> LoadedModel:
        """Build the HiGHS matrix from the Pyomo model with appsi."""
        solver = AppsiHighs()
        solver.config.load_solution = False
        solver.set_instance(formulation.model)
        highs = solver._solver_model
        highs.setOptionValue("output_flag", False)
        var_map = solver._pyomo_var_to_solver_var_map
        x_columns = np.fromiter((var_map[id(v)] for v in formulation.x), dtype=np.int64)
        active = getattr(formulation.model, "on", None)
        active_columns = (
            {} if active is None else {key: var_map[id(var)] for key, var in active.items()}
        )
        rows = solver._solver_con_to_pyomo_con_map
        row_names = [rows[i].name for i in range(len(rows))]
        lp = highs.getLp()
        return cls(
            highs=highs,
            x_columns=x_columns,
            active_columns=active_columns,
            row_names=row_names,
            integrality=np.asarray(lp.integrality_, dtype=np.uint8),
            maximize=lp.sense_ == highspy.ObjSense.kMaximize,
        )

    @property
    def n_columns(self) -> int:
        return int(self.highs.getNumCol())

    def set_integer(self, integer: bool) -> None:
        """Switch between the MILP and its LP relaxation on the same matrix."""
        n = self.n_columns
        flags = self.integrality if integer else np.zeros(n, dtype=np.uint8)
        if n and self.integrality.any():
            self.highs.changeColsIntegrality(n, np.arange(n, dtype=np.int32), flags)
        self.integer = integer and bool(self.integrality.any())

    def run(self, options: dict[str, object], deadline: float) -> Run:
        """Run HiGHS with `options` and the time left until `deadline` (perf_counter)."""
        highs = self.highs
        for name, value in options.items():
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

    def row_activity(self, values: Vector) -> Vector:
        """A @ values."""
        return self.matrix[0] @ values

    def is_feasible(self, values: Vector) -> bool:
        """Whether `values` satisfies every row and column bound of the loaded matrix."""
        matrix, lower, upper, _ = self.matrix
        activity = matrix @ values
        slack = _FEASIBILITY_TOL * (1.0 + np.abs(activity))
        rows_ok = np.all(activity >= lower - slack) and np.all(activity <= upper + slack)
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
