"""The dashboard marketers open in the browser: sign in with an API key, then datasets (the
ten LTV questions, the monthly lifecycle counts and moves), segments and their values, runs
with their reports and exports, and a form to run a scenario. Server-rendered Jinja2, one
style sheet served from here, no script, no CDN.

The pages hold no logic of their own: they call the API's route functions (api/routes) with
the services, so the browser and the JSON API give the same answers.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import jinja2
import yaml
from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.dashboard.lifecycle import lifecycle
from api.dashboard.session import SignInRequired, sign_in, sign_out, signed_in
from api.deps import Services, ServicesDep, SettingsDep, UnauthorizedError
from api.errors import ApiError, NotFoundError
from api.routes import datasets, runs
from models.errors import ClvbidError
from models.vocabulary import STAGES

HERE = Path(__file__).parent
BUNDLED = Path(__file__).parents[2] / "scenarios"
STAGE_COLOURS = {
    "prospect": "#9e9ac8",
    "new": "#a6dba0",
    "active": "#5aae61",
    "loyal": "#1b7837",
    "inactive": "#bababa",
}
SIGNED_IN = [Depends(signed_in)]
SessionWorkspace = Annotated[str, Depends(signed_in)]

router = APIRouter(include_in_schema=False)
pages = APIRouter(prefix="/dashboard", include_in_schema=False, dependencies=SIGNED_IN)


@cache
def _templates() -> jinja2.Environment:
    """The dashboard's templates, autoescaped (built at the first page, not at start-up: the
    number formats import pandas)."""
    from scenarios.formatting import count, decimal, money, percent

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(count=count, percent=percent, decimal=decimal, money=money)
    return environment


def _page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A rendered page."""
    html = _templates().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code)


def install(app: FastAPI) -> None:
    """Mount the dashboard on the app: its pages, its style sheet and the sign-in redirect."""
    app.include_router(router)
    app.include_router(pages)
    app.mount("/dashboard/static", StaticFiles(directory=HERE / "static"), name="dashboard")

    async def to_sign_in(_request: Request, error: Exception) -> RedirectResponse:
        assert isinstance(error, SignInRequired)
        return RedirectResponse(f"/dashboard/signin?next={error.next_path}", status_code=303)

    app.add_exception_handler(SignInRequired, to_sign_in)


@router.get("/")
def root() -> RedirectResponse:
    """The service's front door is the dashboard."""
    return RedirectResponse("/dashboard", status_code=307)


@router.get("/dashboard/signin")
def signin_form(next: str = "/dashboard") -> HTMLResponse:
    """The sign-in form."""
    return _page("signin.html.j2", next=_local(next), error=None)


def _local(path: str) -> str:
    """A path inside the dashboard (never another site) to go to after signing in."""
    return path if path.startswith("/dashboard") and "//" not in path else "/dashboard"


@router.post("/dashboard/signin")
def signin(
    request: Request,
    settings: SettingsDep,
    api_key: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/dashboard",
) -> Response:
    """Check the key and set the session cookie, or show the form again with why."""
    response = RedirectResponse(_local(next), status_code=303)
    try:
        sign_in(settings, api_key, request, response)
    except UnauthorizedError as error:
        return _page("signin.html.j2", 401, next=_local(next), error=error.detail)
    return response


@router.post("/dashboard/signout")
def signout() -> RedirectResponse:
    """Forget the session."""
    response = RedirectResponse("/dashboard/signin", status_code=303)
    sign_out(response)
    return response


@pages.get("")
def home(services: ServicesDep, workspace: SessionWorkspace) -> HTMLResponse:
    """Datasets and runs, with the forms to upload orders and to run a scenario."""
    return _page(
        "home.html.j2",
        datasets=datasets.list_datasets(services, workspace).datasets,
        runs=runs.list_runs(services, workspace, limit=20).runs,
        bundled=sorted(p.stem for p in BUNDLED.glob("*.yaml")),
        error=None,
    )


@pages.post("/datasets")
async def upload(
    services: ServicesDep, workspace: SessionWorkspace, file: Annotated[UploadFile, File()]
) -> Response:
    """Upload an orders file as POST /v1/datasets does, then open its page."""
    try:
        dataset = await datasets.upload_dataset(services, workspace, Response(), file, None, None)
    except (ApiError, ClvbidError, RequestValidationError) as error:
        return _error_page(services, workspace, error)
    return RedirectResponse(f"/dashboard/datasets/{dataset.id}", status_code=303)


def _error_page(services: Services, workspace: str, error: Exception) -> HTMLResponse:
    """The home page again, with what went wrong."""
    if isinstance(error, RequestValidationError):
        text = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in error.errors())
    else:
        text = str(error)
    return _page(
        "home.html.j2",
        422,
        datasets=datasets.list_datasets(services, workspace).datasets,
        runs=runs.list_runs(services, workspace, limit=20).runs,
        bundled=sorted(p.stem for p in BUNDLED.glob("*.yaml")),
        error=text,
    )


def _lifecycle_charts(
    figures: dict[str, Any], stage_counts: dict[str, int], as_of: str
) -> tuple[str, str, str]:
    """The monthly stage counts (stacked bars), last month's moves (heat map) and the stages
    at `as_of` (bars) as SVG."""
    import pandas as pd  # the charts' stack, imported at the first page, not at start-up

    from scenarios import charts

    counts = pd.DataFrame.from_dict(figures["counts"], orient="index")
    counts = counts.reindex(columns=list(STAGES), fill_value=0)
    counts.index = [pd.Timestamp(d).strftime("%b %Y") for d in counts.index]
    monthly = charts.stacked_bars(
        counts,
        STAGE_COLOURS,
        title="Customers per lifecycle stage at each month-end",
        ylabel="customers",
        legend="stage",
    )
    moves = pd.DataFrame.from_dict(figures["moves"], orient="index")
    moves.columns.name = figures["end"]
    matrix = charts.matrix_chart(
        moves, title=f"Moves between stages, {figures['start']} to {figures['end']}"
    )
    shares = pd.DataFrame({"customers": stage_counts}).reindex(list(STAGES))
    stages = charts.stacked_bars(
        shares,
        STAGE_COLOURS,
        title=f"Customers by stage at {as_of}",
        ylabel="customers",
        legend="stage",
    )
    return charts.svg(monthly), charts.svg(matrix), charts.svg(stages)


@pages.get("/datasets/{dataset_id}")
async def dataset_page(
    dataset_id: str, services: ServicesDep, workspace: SessionWorkspace
) -> HTMLResponse:
    """The ten LTV questions and the lifecycle indicator of one dataset."""
    dataset = datasets.get_dataset(dataset_id, services, workspace)
    answers = await datasets.get_dashboard(dataset_id, services, workspace)
    figures = await services.analysts.run(
        lifecycle,
        datasets.stored_orders(services, dataset),
        12,
        answers.window_months,
        deadline_seconds=services.settings.job_timeout_seconds,
    )
    monthly, moves, stages = await run_in_threadpool(
        _lifecycle_charts, figures, answers.stage_counts, str(answers.as_of)
    )
    return _page(
        "dataset.html.j2",
        dataset=dataset,
        questions=answers.as_rows(),
        stages=stages,
        monthly=monthly,
        moves=moves,
        rejected=Counter(dataset.rejected_by_reason),
    )


@pages.get("/datasets/{dataset_id}/segments")
def segments_page(
    dataset_id: str, services: ServicesDep, workspace: SessionWorkspace
) -> HTMLResponse:
    """The segments of the dataset's latest CLV fit and their values, or a button to fit."""
    dataset = datasets.get_dataset(dataset_id, services, workspace)
    try:
        table = datasets.get_segments(dataset_id, services, workspace)
    except ApiError as error:
        return _page("segments.html.j2", dataset=dataset, table=None, note=error.detail)
    return _page("segments.html.j2", dataset=dataset, table=table, note=None)


@pages.post("/datasets/{dataset_id}/clv")
async def fit(
    dataset_id: str, services: ServicesDep, workspace: SessionWorkspace
) -> RedirectResponse:
    """Start a CLV fit with the default settings; its segments appear when it succeeds."""
    await datasets.start_clv_fit(dataset_id, services, workspace, Response())
    return RedirectResponse(f"/dashboard/datasets/{dataset_id}/segments", status_code=303)


def _document(
    scenario: str, upload: bytes, dataset_id: str, budget_change_pct: float | None
) -> dict[str, Any]:
    """The scenario document the form describes: an uploaded file or a bundled one, its data
    replaced by a stored dataset when one is chosen, a budget variant added when asked."""
    if upload:
        document = yaml.safe_load(upload.decode("utf-8"))
    else:
        names = {p.stem: p for p in BUNDLED.glob("*.yaml")}
        if scenario not in names:
            raise ClvbidError("choose a bundled scenario or upload a file", field="scenario")
        document = yaml.safe_load(names[scenario].read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ClvbidError("the scenario file is not a YAML mapping", field="file")
    if dataset_id:
        document["data"] = {"source": "dataset", "dataset_id": dataset_id}
    if budget_change_pct is not None:
        name = f"budget{budget_change_pct:+g}pct"
        variant = {
            "name": name,
            "budget_change_pct": budget_change_pct,
            "description": f"budget {budget_change_pct:+g}% (from the dashboard)",
        }
        document["variants"] = [*document.get("variants", []), variant]
    return document


@pages.post("/runs")
async def start_run(
    services: ServicesDep,
    workspace: SessionWorkspace,
    scenario: Annotated[str, Form()] = "",
    dataset_id: Annotated[str, Form()] = "",
    budget_change_pct: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Run a scenario as POST /v1/scenarios/runs does, then follow it on its page."""
    try:
        upload = await file.read() if file is not None else b""
        change = float(budget_change_pct) if budget_change_pct.strip() else None
        document = _document(scenario, upload, dataset_id, change)
        run = await runs.create_scenario_run(services, workspace, Response(), document)
    except ValueError as error:
        error = ClvbidError(str(error), field="budget_change_pct")
        return _error_page(services, workspace, error)
    except (ApiError, ClvbidError, RequestValidationError, yaml.YAMLError) as error:
        return _error_page(services, workspace, error)
    return RedirectResponse(f"/dashboard/runs/{run.id}", status_code=303)


def _exports(services: Services, run_id: str) -> list[str]:
    """The export files of a run, relative to its folder."""
    folder = services.data_dir.run(run_id)
    return sorted(
        str(p.relative_to(folder)) for p in (folder / "exports").rglob("*") if p.is_file()
    )


@pages.get("/runs/{run_id}")
def run_page(run_id: str, services: ServicesDep, workspace: SessionWorkspace) -> HTMLResponse:
    """A run's status (the page refreshes while it works), its report and its exports."""
    run = runs.get_run(run_id, services, workspace)
    done = run.status == "succeeded"
    return _page(
        "run.html.j2",
        run=run,
        working=run.status in ("queued", "running"),
        exports=_exports(services, run_id) if done else [],
        variants=(run.outputs or {}).get("variants", {}),
    )


@pages.get("/runs/{run_id}/report")
def run_report(run_id: str, services: ServicesDep, workspace: SessionWorkspace) -> FileResponse:
    """The run's report, opened with the session instead of the X-API-Key header."""
    return runs.get_run_report(run_id, services, workspace)


@pages.get("/runs/{run_id}/files/{name:path}")
def run_file(
    run_id: str, name: str, services: ServicesDep, workspace: SessionWorkspace
) -> FileResponse:
    """One export file of a succeeded run, as a download."""
    runs.get_run_report(
        run_id, services, workspace
    )  # 404 for an unknown run, 409 before it succeeded
    if name not in _exports(services, run_id) and name != "allocation_base.csv":
        raise NotFoundError("file", name)
    path = services.data_dir.run(run_id) / name
    return FileResponse(path, filename=f"{run_id}-{path.name}")
