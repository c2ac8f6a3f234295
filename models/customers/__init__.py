"""Customer data layer: load and validate orders, unify identities, summarise, stage, score."""

from models.customers.dashboard import LtvDashboard, dashboard_frame, ltv_dashboard
from models.customers.errors import (
    EmptyFileError,
    MissingFileError,
    NoValidOrdersError,
    OrdersEncodingError,
    OrdersError,
    OrdersFileError,
    OrdersSchemaError,
    OrdersValidationError,
)
from models.customers.identity import IdentityReport, connected_customers
from models.customers.lifecycle import (
    STAGES,
    lifecycle_stages,
    month_ends,
    stage_counts,
    stage_transitions,
)
from models.customers.orders import LoadedOrders, LoadReport, load_orders
from models.customers.rfm import pareto_share, quintile_score, rfm_scores
from models.customers.summary import customer_summary
from models.customers.table import customer_table

__all__ = [
    "STAGES",
    "EmptyFileError",
    "MissingFileError",
    "NoValidOrdersError",
    "OrdersEncodingError",
    "OrdersError",
    "OrdersFileError",
    "IdentityReport",
    "LoadReport",
    "LoadedOrders",
    "LtvDashboard",
    "OrdersSchemaError",
    "OrdersValidationError",
    "connected_customers",
    "customer_summary",
    "customer_table",
    "dashboard_frame",
    "lifecycle_stages",
    "load_orders",
    "ltv_dashboard",
    "month_ends",
    "pareto_share",
    "quintile_score",
    "rfm_scores",
    "stage_counts",
    "stage_transitions",
]
