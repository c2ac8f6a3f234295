"""Identity resolution: records that share any identifier are one customer, transitively.

Orders and contacts are linked through customer id (CRM account), e-mail, loyalty card and
device id (and contact id for contacts); the unified customers are the connected components of
the record-identifier graph (scipy.sparse.csgraph.connected_components).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# Identifier types in the order that names a customer: the smallest CRM id of the component,
# else the smallest e-mail, and so on; non-CRM names carry their type as a prefix.
IDENTIFIER_TYPES = ("customer_id", "email", "loyalty_card", "device_id", "contact_id")


ORDER_FIELDS = (
    "order_id", "email", "loyalty_card", "device_id", "timestamp", "amount", "quantity",
    "channel", "device", "source_row",
)  # fmt: skip
NULL_TYPES = {"quantity": "BIGINT"}  # the type of an order field the source lacks (else VARCHAR)


def order_fields(alias: str) -> str:
    """The columns of the `orders` table after `customer_id`, read from table alias `alias`."""
    fields = ", ".join(f"{alias}.{name}" for name in ORDER_FIELDS)
    return (
        f"{alias}.customer_id AS crm_customer_id, {fields}, CAST({alias}.timestamp AS DATE) AS day"
    )


def null_column(name: str) -> str:
    """SQL of a typed NULL column `name` (an order field the source does not have)."""
    return f"CAST(NULL AS {NULL_TYPES.get(name, 'VARCHAR')}) AS {name}"


def _create_orders(
    con: duckdb.DuckDBPyConnection,
    rows: str,
    present: Collection[str],
    unified: str | None,
    *,
    view: bool = False,
) -> None:
    """Create `orders` (customer_id, then the columns of `order_fields`) from `rows`, a FROM
    clause with the kept orders as `r`; `unified`: the SQL of their unified id, None when it
    is the CRM id itself.

    `order_rows` holds the columns the source has (`present`) and source_row; view `orders`
    adds the others as NULL, and the CRM id when it is the unified id: copying ten million
    constant NULLs or repeated ids costs as much as the real columns. `order_rows` is a table,
    or with `view` a view (when `rows` only filters rows already stored: no copy at all).
    """
    stored = [name for name in ORDER_FIELDS if name in present or name == "source_row"]
    crm = "customer_id" in present and unified is not None
    con.execute(
        f"""CREATE {"VIEW" if view else "TABLE"} order_rows AS
        SELECT {unified or "r.customer_id"} AS customer_id,
        {"r.customer_id AS crm_customer_id, " if crm else ""}
        {", ".join(f"r.{name}" for name in stored)}, CAST(r.timestamp AS DATE) AS day
        FROM {rows}"""
    )
    listed = [name if name in stored else null_column(name) for name in ORDER_FIELDS]
    crm_column = (
        "crm_customer_id"
        if crm
        else "customer_id AS crm_customer_id"
        if "customer_id" in present
        else null_column("crm_customer_id")
    )
    con.execute(
        f"""CREATE VIEW orders AS SELECT customer_id, {crm_column},
        {", ".join(listed)}, day FROM order_rows"""
    )


@dataclass(frozen=True)
class IdentityReport:
    """How identity resolution folded records into customers."""

    records: int
    identifiers: int
    customers: int
    records_merged: int
    crm_accounts_merged: int

    def as_rows(self) -> list[tuple[str, str]]:
        """Label/value pairs for a two-column table."""
        return [
            ("identifiers", f"{self.identifiers:,}"),
            ("unified customers", f"{self.customers:,}"),
            ("records merged across identifiers", f"{self.records_merged:,}"),
            ("CRM accounts merged into another", f"{self.crm_accounts_merged:,}"),
        ]


def naming_steps(types: list[str]) -> list[tuple[str, str]]:
    """The relations that name the components, as (name, SELECT), on any engine.

    From `identifier_nodes` (node, identifier_type, identifier) and `node_component` (node,
    component): `component_names` (component, customer_key, customer_id: the smallest CRM id,
    else the smallest e-mail, ...; keys numbered in customer_id order) and `identity_map`
    (identifier_type, identifier, customer_id).
    """
    smallest = [
        f"min(CASE WHEN n.identifier_type = '{t}' THEN n.identifier END)"
        if t == "customer_id"
        else f"'{t}:' || min(CASE WHEN n.identifier_type = '{t}' THEN n.identifier END)"
        for t in IDENTIFIER_TYPES
        if t in types
    ]
    return [
        (
            "component_names",
            f"""SELECT component, row_number() OVER (ORDER BY customer_id) AS customer_key,
                customer_id
            FROM (SELECT c.component, coalesce({", ".join(smallest)}) AS customer_id
                  FROM identifier_nodes n JOIN node_component c ON n.node = c.node
                  GROUP BY c.component)""",
        ),
        (
            "identity_map",
            """SELECT n.identifier_type, n.identifier, m.customer_id
            FROM identifier_nodes n JOIN node_component c ON n.node = c.node
            JOIN component_names m ON c.component = m.component""",
        ),
    ]


IDENTITY_REPORT = """SELECT
    (SELECT sum(records) FROM unified_keys),
    (SELECT count(*) FROM identity_map),
    (SELECT count(DISTINCT unified_id) FROM unified_keys),
    (SELECT coalesce(sum(records), 0) FROM unified_keys WHERE unified_id IN
        (SELECT unified_id FROM unified_keys GROUP BY unified_id HAVING count(*) > 1)),
    (SELECT count(*) FROM identity_map WHERE identifier_type = 'customer_id'
        AND customer_id IN (SELECT customer_id FROM identity_map
                            WHERE identifier_type = 'customer_id'
                            GROUP BY customer_id HAVING count(*) > 1))"""
"""The IdentityReport's figures from `unified_keys` (records, unified_id) and `identity_map`."""


def _unify(con: duckdb.DuckDBPyConnection, types: list[str]) -> None:
    """From table `keys` (key_id 0..n-1 and identifier columns `types`), build
    `identity_map` (identifier_type, identifier, customer_id), `customers` (customer_key,
    customer_id: an integer key per unified customer, fast to group by and numbered in
    customer_id order, so that sorting by it sorts by customer_id) and `unified_keys`
    (the keys with their `customer_key` and unified id, `unified_id`)."""
    (n_keys,) = con.execute("SELECT count(*) FROM keys").fetchall()[0]
    con.execute(
        f"""CREATE TEMP TABLE key_identifiers AS
        UNPIVOT (SELECT key_id, {", ".join(types)} FROM keys) ON {", ".join(types)}
        INTO NAME identifier_type VALUE identifier"""
    )
    con.execute(
        f"""CREATE TEMP TABLE identifier_nodes AS
        SELECT {n_keys} + row_number() OVER () - 1 AS node, identifier_type, identifier
        FROM (SELECT DISTINCT identifier_type, identifier FROM key_identifiers)"""
    )
    (n_nodes,) = con.execute("SELECT count(*) FROM identifier_nodes").fetchall()[0]
    edges = con.execute(
        "SELECT k.key_id, n.node FROM key_identifiers k "
        "JOIN identifier_nodes n USING (identifier_type, identifier)"
    ).fetchnumpy()
    size = int(n_keys + n_nodes)
    graph = coo_matrix(
        (np.ones(len(edges["node"]), dtype=np.int8), (edges["key_id"], edges["node"])),
        shape=(size, size),
    )
    _, component = connected_components(graph, directed=False)
    con.register("component_frame", pd.DataFrame({"node": np.arange(size), "component": component}))
    con.execute("CREATE TEMP TABLE node_component AS SELECT * FROM component_frame")
    con.unregister("component_frame")
    for name, sql in naming_steps(types):
        con.execute(f"CREATE TABLE {name} AS {sql}")
    con.execute(
        """CREATE TABLE unified_keys AS
        SELECT k.*, m.customer_key, m.customer_id AS unified_id FROM keys k
        JOIN node_component c ON c.node = k.key_id JOIN component_names m USING (component)"""
    )
    con.execute("CREATE TABLE customers AS SELECT customer_key, customer_id FROM component_names")
    tables = ["keys", "key_identifiers", "identifier_nodes", "node_component", "component_names"]
    for table in tables:
        con.execute(f"DROP TABLE {table}")


def connected_customers(keys: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Unify identifier combinations: one row of `keys` per combination, NaN where absent.

    Returns the unified customer id of every row of `keys` and the map of every identifier
    (identifier_type, identifier, customer_id). The same SQL as `resolve_identities`.
    """
    types = [t for t in IDENTIFIER_TYPES if t in keys.columns]
    con = duckdb.connect()
    frame = keys[types].astype("str").assign(key_id=np.arange(len(keys)))
    con.register("keys_frame", frame)
    con.execute("CREATE TABLE keys AS SELECT * FROM keys_frame")
    _unify(con, types)
    customers = con.execute("SELECT unified_id FROM unified_keys ORDER BY key_id").df()
    identity_map = con.execute("SELECT * FROM identity_map").df()
    return pd.Series(customers["unified_id"].to_numpy(), index=keys.index), identity_map


def _single_key(
    con: duckdb.DuckDBPyConnection, present: Collection[str], netted: bool
) -> IdentityReport:
    """Orders identified by customer id alone: the id is the unified customer.

    Unless an order was `netted` (refunds or duplicates), `kept` only filters the checked
    rows, so `order_rows` is a view over it: no copy of every order. `identity_map` (each id
    its own customer) and `customers` (the ids numbered) are views, computed only when a
    query asks for them: storing ten million ids that map to themselves cost a second.
    """
    _create_orders(con, "kept r", present, None, view=not netted)
    con.execute(
        "CREATE VIEW identity_map AS SELECT 'customer_id' AS identifier_type, "
        "customer_id AS identifier, customer_id FROM (SELECT DISTINCT customer_id FROM orders)"
    )
    con.execute(
        "CREATE VIEW customers AS SELECT row_number() OVER (ORDER BY customer_id) AS "
        "customer_key, customer_id FROM identity_map"
    )
    rows = con.execute("SELECT count(*), count(DISTINCT customer_id) FROM orders").fetchall()
    records, customers = (int(v) for v in rows[0])
    return IdentityReport(records, customers, customers, 0, 0)


def resolve_identities(
    con: duckdb.DuckDBPyConnection,
    identifier_columns: list[str],
    *,
    with_contacts: bool,
    present: Collection[str] = ORDER_FIELDS,
    netted: bool = True,
) -> IdentityReport:
    """Unify the identifiers of tables `kept` (orders) and `contacts_raw`; build `orders`,
    `contacts`, `customers` and `identity_map` with the unified `customer_id`. `present`:
    the order columns the source has (the others are NULL in `kept`); `netted`: whether
    validation netted refunds or dropped duplicates (else `kept` is a plain row filter)."""
    present = {*present, *identifier_columns}
    if identifier_columns == ["customer_id"] and not with_contacts:
        return _single_key(con, present, netted)
    id_cols = ", ".join(IDENTIFIER_TYPES)
    records = "SELECT customer_id, email, loyalty_card, device_id, NULL AS contact_id FROM kept"
    if with_contacts:
        records += f" UNION ALL SELECT {id_cols} FROM contacts_raw"
    con.execute(
        f"""CREATE TABLE keys AS SELECT row_number() OVER () - 1 AS key_id, *
        FROM (SELECT {id_cols}, count(*) AS records FROM ({records}) GROUP BY ALL)"""
    )
    _unify(con, list(IDENTIFIER_TYPES))
    join = " AND ".join(
        f"r.{c} IS NOT DISTINCT FROM k.{c}" for c in IDENTIFIER_TYPES if c != "contact_id"
    )
    rows = f"kept r JOIN unified_keys k ON {join} AND k.contact_id IS NULL"
    _create_orders(con, rows, present, "k.unified_id")
    if with_contacts:
        con.execute(
            f"""CREATE TABLE contacts AS
            SELECT k.customer_key, k.unified_id AS customer_id,
                   r.* RENAME (customer_id AS crm_customer_id)
            FROM contacts_raw r JOIN unified_keys k
              ON {join} AND r.contact_id IS NOT DISTINCT FROM k.contact_id"""
        )
        con.execute("DROP TABLE contacts_raw")
    rows = con.execute(IDENTITY_REPORT).fetchall()
    con.execute("DROP TABLE unified_keys")
    return IdentityReport(*(int(v) for v in rows[0]))
