"""Datasets: upload orders (CSV or Parquet), list, read, delete; dashboard, CLV fit, segments."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from sqlalchemy import select

from api.deps import Services, ServicesDep, WorkspaceDep
from api.errors import (
    BODY_UNREADABLE,
    ConflictBody,
    ConflictError,
    ErrorBody,
    NotFoundError,
    TooLargeError,
    error_text,
    invalid,
)
from api.jobs import create_job, start_job
from api.schemas import DatasetList, DatasetOut, JobOut, SegmentRow, SegmentTable
from api.store import Dataset, Job, owned, package_versions
from api.store.tables import new_id, utc_now
from api.tasks import (
    DEFAULT_READING,
    Reading,
    StoredOrders,
    TaskError,
    TextReading,
    TooManyRows,
    dashboard,
    fit_clv,
    ingest_orders,
    lookalikes,
    movers,
)
from api.workspaces import DEFAULT_WORKSPACE
from models.column_mapping import column_pairs, parse_column_pairs
from models.reports import LookalikeReport, LtvDashboard, MoversReport
from models.settings import ValuationSettings

router = APIRouter(prefix="/datasets", tags=["datasets"])

NOT_FOUND = {404: {"model": ErrorBody, "description": "Unknown dataset id."}}
SUFFIXES = (".csv.gz", ".csv", ".parquet", ".pq")
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
CHUNK_BYTES = 2**20
LAST_DATE = dt.date(2199, 12, 31)  # model horizons are added to dates; keep them in range
# The same bound in the OpenAPI schema, which has no maximum for dates: years up to 2199.
UP_TO_LAST_YEAR = {"pattern": r"^(0\d{3}|1\d{3}|20\d{2}|21\d{2})-\d{2}-\d{2}$"}


def _suffix(filename: str | None, head: bytes) -> str:
    """The file suffix the loader reads by: from the file name, else from its first bytes."""
    name = (filename or "").lower()
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return suffix
    if head.startswith(PARQUET_MAGIC):
        return ".parquet"
    if head.startswith(GZIP_MAGIC):
        return ".csv.gz"
    return ".csv"


def _save(stream: BinaryIO, target: Path) -> tuple[int, str]:
    """Copy a stream to `target` in chunks; return its size in bytes and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def stored_orders(services: Services, dataset: Dataset) -> StoredOrders:
    """A dataset's orders as the analysis routes read them: the file kept at upload (text
    parsed once, into Parquet), as of the upload, read as at upload (column mapping, decimal
    separator, timestamp format)."""
    reading = Reading(
        dataset.columns or {},
        dataset.contact_columns or {},
        dataset.decimal,
        dataset.timestamp_format,
    )
    return StoredOrders(
        services.data_dir.orders(dataset.id, dataset.file_format),
        _as_of_upload(dataset.created_at),
        reading,
    )


def _contacts(services: Services, dataset: Dataset) -> Path | None:
    """The contacts file uploaded with the dataset, or None."""
    return services.data_dir.contacts(dataset.id)


def _as_of_upload(moment: dt.datetime) -> str:
    """The upload time as the loader's naive UTC limit for future-dated rows."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat()


def _get(services: Services, workspace: str, dataset_id: str) -> Dataset:
    """The workspace's dataset with this id; 404 for an unknown id or another workspace's."""
    with services.database.session() as session:
        dataset = owned(session, Dataset, dataset_id, workspace)
    if dataset is None:
        raise NotFoundError("dataset", dataset_id)
    return dataset


async def _store(stream: BinaryIO, filename: str | None, folder: Path, stem: str) -> Path:
    """Save an uploaded file as `folder/<stem><suffix>`, the suffix the loader reads it by."""
    head = await run_in_threadpool(stream.read, 8)
    await run_in_threadpool(stream.seek, 0)
    target = folder / f"{stem}{_suffix(filename, head)}"
    await run_in_threadpool(_save, stream, target)
    return target


async def _ingest(
    services: Services,
    workspace: str,
    stream: BinaryIO,
    filename: str | None,
    name: str,
    contacts: UploadFile | None = None,
    text: TextReading = (None, None),
    reading: Reading = DEFAULT_READING,
) -> Dataset:
    """Store an upload (and its contacts) under a new dataset id, load it in a worker (text
    read with `text`: encoding, delimiter; `reading`'s columns, decimal separator and
    timestamp format then and on every later read), record what loaded."""
    head = await run_in_threadpool(stream.read, 8)
    await run_in_threadpool(stream.seek, 0)
    suffix = _suffix(filename, head)
    dataset_id = new_id()
    folder = services.data_dir.dataset(dataset_id)
    source = folder / f"source{suffix}"
    size, sha256 = await run_in_threadpool(_save, stream, source)
    contacts_path = None
    if contacts is not None:
        contacts_path = await _store(contacts.file, contacts.filename, folder, "contacts")
    created_at = utc_now()
    try:
        counts = await services.analysts.run(
            ingest_orders,
            StoredOrders(source, _as_of_upload(created_at), reading),
            folder,
            services.settings.max_upload_rows,
            contacts_path,
            text,
            deadline_seconds=services.settings.job_timeout_seconds,
        )
    except TooManyRows as error:
        services.data_dir.remove_dataset(dataset_id)
        raise TooLargeError(error_text(error), where="body.file") from error
    except TaskError as error:
        services.data_dir.remove_dataset(dataset_id)
        field = (error.where.field or "body.file").removeprefix("body.")
        given = {  # what the client sent in each upload field that can be at fault
            "column": column_pairs(reading.columns),
            "contact_column": column_pairs(reading.contact_columns),
            "decimal": reading.decimal,
            "timestamp_format": reading.timestamp_format,
        }
        raise invalid(("body", field), error_text(error), given.get(field, filename)) from error
    dataset = Dataset(
        id=dataset_id,
        workspace=workspace,
        name=name,
        file_format=suffix,
        size_bytes=size,
        sha256=sha256,
        versions=package_versions(),
        created_at=created_at,
        columns=dict(reading.columns) or None,
        contact_columns=dict(reading.contact_columns) or None,
        decimal=reading.decimal,
        timestamp_format=reading.timestamp_format,
        **counts,
    )
    with services.database.session() as session:
        session.add(dataset)
    return dataset


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        **BODY_UNREADABLE,
        413: {"model": ErrorBody, "description": "Upload larger than the limit."},
    },
)
async def upload_dataset(
    services: ServicesDep,
    workspace: WorkspaceDep,
    response: Response,
    file: Annotated[
        UploadFile,
        File(
            description="Orders as CSV (optionally .gz) or Parquet.",
            json_schema_extra={"format": "binary"},
        ),
    ],
    name: Annotated[str | None, Form(max_length=255)] = None,
    contacts: Annotated[
        UploadFile | None,
        File(
            description="Optional contacts with attributes (CSV or Parquet), for lookalikes.",
            json_schema_extra={"format": "binary"},
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        Form(
            max_length=40,
            description="Text encoding of the files (default utf-8), e.g. cp1252.",
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        Form(
            max_length=10,
            description="Field delimiter (default: detected): one character, `tab`, or "
            "`whitespace` for runs of blanks.",
        ),
    ] = None,
    column: Annotated[
        list[str] | None,
        Form(
            description="Column mapping OURS=THEIRS, one field per column (as `clvbid "
            "customers --column`), e.g. `amount=Betrag`.",
        ),
    ] = None,
    contact_column: Annotated[
        list[str] | None,
        Form(
            description="The contacts file's column mapping OURS=THEIRS, one field per column, "
            "e.g. `customer_id=Kundennummer`.",
        ),
    ] = None,
    decimal: Annotated[
        Literal[".", ","],
        Form(description="Decimal separator of text amounts: `.` (12.50) or `,` (12,50)."),
    ] = ".",
    timestamp_format: Annotated[
        str | None,
        Form(
            max_length=64,
            description="strptime format of text timestamps that are not ISO dates, e.g. "
            "`%d.%m.%Y %H:%M` (ISO dates are read either way).",
        ),
    ] = None,
) -> DatasetOut:
    """Upload orders; rows that fail validation are counted by reason, the rest are kept.

    Columns: customer_id, timestamp and amount are required; order_id, quantity, channel,
    device, email, loyalty_card and device_id are used when present (docs/customers.md).
    `contacts` (identifiers and attributes, prospects included) enables the lookalikes.
    Text is read as `clvbid customers` reads it (`encoding`, `delimiter`), once: the service
    keeps it as Parquet and every later read uses that, with the upload's `column` and
    `contact_column` mappings, `decimal` and `timestamp_format`.
    """
    mappings = {}
    for field, pairs in (("column", column), ("contact_column", contact_column)):
        try:
            mappings[field] = parse_column_pairs(pairs)
        except ValueError as error:
            raise invalid(("body", field), str(error), pairs) from None
    dataset = await _ingest(
        services,
        workspace,
        file.file,
        file.filename,
        name or file.filename or "orders",
        contacts,
        (encoding, delimiter),
        Reading(mappings["column"], mappings["contact_column"], decimal, timestamp_format or None),
    )
    response.headers["Location"] = f"/v1/datasets/{dataset.id}"
    return DatasetOut.model_validate(dataset)


@router.get("")
def list_datasets(services: ServicesDep, workspace: WorkspaceDep) -> DatasetList:
    """Every stored dataset, newest first."""
    with services.database.session() as session:
        rows = session.scalars(
            select(Dataset)
            .where(Dataset.workspace == workspace)
            .order_by(Dataset.created_at.desc())
        )
        return DatasetList(datasets=[DatasetOut.model_validate(row) for row in rows])


@router.get("/{dataset_id}", responses=NOT_FOUND)
def get_dataset(dataset_id: str, services: ServicesDep, workspace: WorkspaceDep) -> DatasetOut:
    """One dataset: file, row counts, rejects by reason, customers, package versions."""
    return DatasetOut.model_validate(_get(services, workspace, dataset_id))


@router.delete("/{dataset_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_dataset(dataset_id: str, services: ServicesDep, workspace: WorkspaceDep) -> None:
    """Delete a dataset, its files and its jobs."""
    dataset = _get(services, workspace, dataset_id)
    with services.database.session() as session:
        session.delete(session.merge(dataset))
    services.data_dir.remove_dataset(dataset_id)


@router.get(
    "/{dataset_id}/rejects.csv",
    response_class=FileResponse,
    responses={**NOT_FOUND, 200: {"content": {"text/csv": {}}}},
)
def get_rejects(dataset_id: str, services: ServicesDep, workspace: WorkspaceDep) -> FileResponse:
    """Every rejected row with its source row number, field and reason, as CSV."""
    dataset = _get(services, workspace, dataset_id)
    path = services.data_dir.dataset(dataset.id) / "rejects.csv"
    return FileResponse(path, media_type="text/csv", filename=f"{dataset.id}-rejects.csv")


@router.get("/{dataset_id}/dashboard", responses=NOT_FOUND)
async def get_dashboard(
    dataset_id: str,
    services: ServicesDep,
    workspace: WorkspaceDep,
    as_of: Annotated[
        dt.date | None, Query(description="Reference date; default last order.")
    ] = None,
    window_months: Annotated[int, Query(ge=1, le=120)] = 6,
    basket_threshold: Annotated[float | None, Query(ge=0, allow_inf_nan=False)] = None,
) -> LtvDashboard:
    """The LTV dashboard: active, inactive, one-order and repeat customers, baskets, stages."""
    dataset = await run_in_threadpool(_get, services, workspace, dataset_id)
    try:
        figures: dict[str, Any] = await services.analysts.run(
            dashboard,
            stored_orders(services, dataset),
            as_of.isoformat() if as_of else None,
            window_months,
            basket_threshold,
            deadline_seconds=services.settings.job_timeout_seconds,
        )
    except TaskError as error:
        raise invalid(("query", "as_of"), error_text(error), as_of) from error
    return LtvDashboard.model_validate(figures)


def _needs_contacts(dataset: Dataset, what: str) -> ConflictError:
    """The 409 of a dataset whose contacts cannot give lookalikes: what, and the fix."""
    return ConflictError(
        f"dataset {dataset.id!r}: {what}; upload the orders again with a `contacts` file "
        "(POST /v1/datasets)",
        where="path.dataset_id",
    )


@router.get(
    "/{dataset_id}/lookalikes",
    responses={
        **NOT_FOUND,
        409: {"model": ConflictBody, "description": "No contacts, or too few with attributes."},
    },
)
async def get_lookalikes(
    dataset_id: str,
    services: ServicesDep,
    workspace: WorkspaceDep,
    as_of: Annotated[
        dt.date | None,
        Query(
            description="Reference date; default last order.",
            le=LAST_DATE,
            json_schema_extra=UP_TO_LAST_YEAR,
        ),
    ] = None,
) -> LookalikeReport:
    """Lookalike audiences: prospects scored against the best customers, top 1/5/10%."""
    dataset = await run_in_threadpool(_get, services, workspace, dataset_id)
    contacts = await run_in_threadpool(_contacts, services, dataset)
    if contacts is None:  # answered before any order is read
        raise _needs_contacts(dataset, "lookalikes need contacts with customer attributes")
    try:
        report: dict[str, Any] = await services.analysts.run(
            lookalikes,
            stored_orders(services, dataset),
            contacts,
            as_of.isoformat() if as_of else None,
            deadline_seconds=services.settings.job_timeout_seconds,
        )
    except TaskError as error:
        if error.where.field == "path.dataset_id":
            raise _needs_contacts(dataset, error.what) from error
        raise invalid(("query", "as_of"), error_text(error), as_of) from error
    return LookalikeReport.model_validate(report)


@router.get("/{dataset_id}/movers", responses=NOT_FOUND)
async def get_movers(
    dataset_id: str,
    services: ServicesDep,
    workspace: WorkspaceDep,
    start: Annotated[
        dt.date,
        Query(
            description="Earlier reference date.", le=LAST_DATE, json_schema_extra=UP_TO_LAST_YEAR
        ),
    ],
    end: Annotated[
        dt.date | None,
        Query(
            description="Later reference date; default last order.",
            le=LAST_DATE,
            json_schema_extra=UP_TO_LAST_YEAR,
        ),
    ] = None,
) -> MoversReport:
    """Segments on the move between two dates: re-engage, push, stop paying."""
    dataset = await run_in_threadpool(_get, services, workspace, dataset_id)
    try:
        report: dict[str, Any] = await services.analysts.run(
            movers,
            stored_orders(services, dataset),
            start.isoformat(),
            end.isoformat() if end else None,
            deadline_seconds=services.settings.job_timeout_seconds,
        )
    except TaskError as error:
        raise invalid(("query", "start"), error_text(error), start.isoformat()) from error
    return MoversReport.model_validate(report)


async def load_demo_dataset(services: Services) -> Dataset | None:
    """Store the bundled CDNOW orders as a dataset of the default workspace when the store
    has none; return it."""
    from models.datasets import cdnow_master_path, load_cdnow  # pandas: only when asked

    with services.database.session() as session:
        if session.scalars(select(Dataset.id).limit(1)).first() is not None:
            return None
    frame = load_cdnow(cdnow_master_path())
    csv_path = services.data_dir.incoming(new_id() + ".csv")
    frame.to_csv(csv_path, index=False)
    try:
        with csv_path.open("rb") as stream:
            return await _ingest(
                services, DEFAULT_WORKSPACE, stream, csv_path.name, "CDNOW demo (1997-98)"
            )
    finally:
        csv_path.unlink(missing_ok=True)


def _segments_path(services: Services, dataset_id: str, job_id: str) -> Path:
    return services.data_dir.dataset(dataset_id) / f"segments-{job_id}.parquet"


@router.post(
    "/{dataset_id}/clv",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **BODY_UNREADABLE},
)
async def start_clv_fit(
    dataset_id: str,
    services: ServicesDep,
    workspace: WorkspaceDep,
    response: Response,
    request: ValuationSettings | None = None,
) -> JobOut:
    """Start fitting the CLV models on a dataset in the background; poll the job it returns."""
    dataset = await run_in_threadpool(_get, services, workspace, dataset_id)
    params = (request or ValuationSettings()).model_dump(mode="json")
    job = await run_in_threadpool(
        create_job, services.database, workspace, "clv_fit", dataset.id, params
    )
    start_job(
        services,
        job,
        fit_clv,
        stored_orders(services, dataset),
        _segments_path(services, dataset.id, job.id),
        params,
    )
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return JobOut.model_validate(job)


@router.get(
    "/{dataset_id}/segments",
    responses={
        **NOT_FOUND,
        409: {"model": ConflictBody, "description": "No successful CLV fit yet."},
    },
)
def get_segments(dataset_id: str, services: ServicesDep, workspace: WorkspaceDep) -> SegmentTable:
    """The segment CLV table (stage x tier) of the latest successful fit; the optimizer input."""
    dataset = _get(services, workspace, dataset_id)
    with services.database.session() as session:
        job = session.scalars(
            select(Job)
            .where(
                Job.workspace == workspace,
                Job.dataset_id == dataset.id,
                Job.kind == "clv_fit",
                Job.status == "succeeded",
            )
            .order_by(Job.finished_at.desc())
            .limit(1)
        ).first()
    if job is None or job.finished_at is None:
        raise ConflictError(
            f"dataset {dataset.id!r} has no fitted CLV model yet: "
            f"POST /v1/datasets/{dataset.id}/clv and wait for the job to succeed",
            where="path.dataset_id",
        )
    import pandas as pd  # at the first segment table, not at start-up

    table = pd.read_parquet(_segments_path(services, dataset.id, job.id))
    rows = table.astype(object).where(table.notna(), None).to_dict(orient="records")
    return SegmentTable(
        dataset_id=dataset.id,
        job_id=job.id,
        fitted_at=job.finished_at,
        params=job.params,
        fit=job.result or {},
        segments=[SegmentRow.model_validate(row) for row in rows],
    )
