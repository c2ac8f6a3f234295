"""Customer data layer: load and validate orders, unify identities, summarise, stage, score."""

from models.customers.identity import IdentityReport, connected_customers
from models.customers.orders import (
    LoadedOrders,
    LoadReport,
    OrdersSchemaError,
    OrdersValidationError,
    load_orders,
)
from models.customers.summary import customer_summary

__all__ = [
    "IdentityReport",
    "LoadReport",
    "LoadedOrders",
    "OrdersSchemaError",
    "OrdersValidationError",
    "connected_customers",
    "customer_summary",
    "load_orders",
]
