"""Landscapes: upload a platform's bid simulation, get it back cleaned (optimizer.landscape_import)
as landscape points or a fitted curve per audience and channel, ready for a problem's segments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel

from api.errors import BODY_UNREADABLE, invalid
from optimizer.schema import LandscapeFormat, LandscapePoint, Positive, ResponseCurve

router = APIRouter(prefix="/landscapes", tags=["landscapes"])


class DroppedPointOut(BaseModel):
    """A simulation point left out of the landscape, and why."""

    bid_multiplier: float
    cost: float
    conversions: float
    reason: str


class CleanLandscapeOut(BaseModel):
    """One audience's cleaned landscape on one channel; `curve` when too few points were left;
    `scale` turned the simulated days into the planning period."""

    audience: str
    channel: str
    points: list[LandscapePoint]
    curve: ResponseCurve | None
    dropped: list[DroppedPointOut]
    scale: float


@router.post("/clean", responses=BODY_UNREADABLE)
async def clean_landscape_file(
    file: Annotated[UploadFile, File(description="Google Ads simulations (.json/.csv) or CSV")],
    format: Annotated[LandscapeFormat, Form()],
    period_days: Annotated[Positive | None, Form()] = None,
    current_cpc_bid: Annotated[Positive | None, Form()] = None,
    min_points: Annotated[int, Form(ge=1)] = 3,
) -> list[CleanLandscapeOut]:
    """Read, clean, scale and (when too few points) fit the uploaded landscapes."""
    # Imported here, not at start-up: the import reads with pandas (api/main.py's budget).
    from optimizer.landscape_import import LandscapeImportError, clean_landscapes, read_landscapes

    try:
        text = (await file.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise invalid(("body", "file"), "the file is not UTF-8 text") from None
    try:
        points = read_landscapes(
            file.filename or "upload", format, current_cpc_bid=current_cpc_bid, text=text
        )
    except LandscapeImportError as error:
        raise invalid(("body", "file"), str(error)) from None
    cleaned = clean_landscapes(points, period_days=period_days, min_points=min_points)
    return [
        CleanLandscapeOut(
            audience=item.audience,
            channel=item.channel,
            points=item.points,
            curve=item.curve,
            dropped=[DroppedPointOut(**vars(p)) for p in item.dropped],
            scale=item.scale,
        )
        for item in cleaned
    ]
