"""Identity resolution: records that share any identifier are one customer, transitively.

Orders and contacts are linked through customer id (CRM account), e-mail, loyalty card and
device id (and contact id for contacts); the unified customers are the connected components of
the record-identifier graph (scipy.sparse.csgraph.connected_components).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# Identifier types in the order that names a customer: the smallest CRM id of the component,
# else the smallest e-mail, and so on; non-CRM names carry their type as a prefix.
IDENTIFIER_TYPES = ("customer_id", "email", "loyalty_card", "device_id", "contact_id")


def _order_fields(alias: str) -> str:
    """The columns of the `orders` table after `customer_id`, read from table alias `alias`."""
    names = "order_id, email, loyalty_card, device_id, timestamp"
    names += ", amount, quantity, channel, device, source_row"
    fields = ", ".join(f"{alias}.{name}" for name in names.split(", "))
    return (
        f"{alias}.customer_id AS crm_customer_id, {fields}, CAST({alias}.timestamp AS DATE) AS day"
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


def connected_customers(keys: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Unify identifier combinations: one row of `keys` per record kind, NaN where absent.

    Returns the unified customer id of every row of `keys` and the map of every identifier
    (identifier_type, identifier, customer_id).
    """
    types = [t for t in IDENTIFIER_TYPES if t in keys.columns]
    n_keys = len(keys)
    key_index, node_index, frames = [], [], []
    offset = n_keys
    for identifier_type in types:
        column = keys[identifier_type]
        present = np.flatnonzero(column.notna().to_numpy())
        codes, uniques = pd.factorize(column.to_numpy()[present])
        key_index.append(present)
        node_index.append(codes + offset)
        nodes = np.arange(len(uniques)) + offset
        frames.append(
            pd.DataFrame({"identifier_type": identifier_type, "identifier": uniques, "node": nodes})
        )
        offset += len(uniques)
    rows, cols = np.concatenate(key_index), np.concatenate(node_index)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(offset, offset))
    _, component = connected_components(graph, directed=False)
    identifiers = pd.concat(frames, ignore_index=True)
    identifiers["component"] = component[identifiers["node"].to_numpy()]
    names = pd.Series(pd.NA, index=pd.RangeIndex(component.max() + 1), dtype="object")
    for identifier_type in types:
        of_type = identifiers[identifiers["identifier_type"] == identifier_type]
        smallest = of_type.groupby("component")["identifier"].min()
        if identifier_type != "customer_id":
            smallest = identifier_type + ":" + smallest.astype(str)
        names = names.fillna(smallest)
    identifiers["customer_id"] = names.to_numpy()[identifiers["component"].to_numpy()]
    key_customers = pd.Series(names.to_numpy()[component[:n_keys]], index=keys.index)
    return key_customers, identifiers[["identifier_type", "identifier", "customer_id"]]


def _single_key(con: duckdb.DuckDBPyConnection) -> IdentityReport:
    """Orders identified by customer id alone: the id is the unified customer."""
    con.execute(f"CREATE TABLE orders AS SELECT k.customer_id, {_order_fields('k')} FROM kept k")
    con.execute(
        "CREATE TABLE identity_map AS SELECT DISTINCT 'customer_id' AS identifier_type, "
        "customer_id AS identifier, customer_id FROM orders"
    )
    con.execute("DROP TABLE kept")
    rows = con.execute("SELECT count(*), count(DISTINCT customer_id) FROM orders").fetchall()
    records, customers = (int(v) for v in rows[0])
    return IdentityReport(records, customers, customers, 0, 0)


def resolve_identities(
    con: duckdb.DuckDBPyConnection, identifier_columns: list[str], *, with_contacts: bool
) -> IdentityReport:
    """Unify the identifiers of tables `kept` (orders) and `contacts_raw`; build `orders`,
    `contacts` and `identity_map` with the unified `customer_id`."""
    if identifier_columns == ["customer_id"] and not with_contacts:
        return _single_key(con)
    id_cols = ", ".join(IDENTIFIER_TYPES)
    records = "SELECT customer_id, email, loyalty_card, device_id, NULL AS contact_id FROM kept"
    if with_contacts:
        records += f" UNION ALL SELECT {id_cols} FROM contacts_raw"
    keys = con.execute(f"SELECT {id_cols}, count(*) AS records FROM ({records}) GROUP BY ALL").df()
    key_customers, identity_map = connected_customers(keys[list(IDENTIFIER_TYPES)])
    keys["unified_id"] = key_customers
    key_table = keys.drop(columns="records")
    con.register("key_customers", key_table)
    join = " AND ".join(
        f"coalesce(r.{c}, '') = coalesce(k.{c}, '')" for c in IDENTIFIER_TYPES if c != "contact_id"
    )
    con.execute(
        f"""CREATE TABLE orders AS
        SELECT k.unified_id AS customer_id, {_order_fields("r")}
        FROM kept r JOIN key_customers k ON {join} AND k.contact_id IS NULL"""
    )
    if with_contacts:
        con.execute(
            f"""CREATE TABLE contacts AS
            SELECT k.unified_id AS customer_id, r.* RENAME (customer_id AS crm_customer_id)
            FROM contacts_raw r JOIN key_customers k
              ON {join} AND coalesce(r.contact_id, '') = coalesce(k.contact_id, '')"""
        )
        con.execute("DROP TABLE contacts_raw")
    con.unregister("key_customers")
    con.execute("DROP TABLE kept")
    con.register("identity_frame", identity_map)
    con.execute("CREATE TABLE identity_map AS SELECT * FROM identity_frame")
    con.unregister("identity_frame")
    keys_per_customer = keys.groupby("unified_id")["records"].transform("size")
    crm = identity_map[identity_map["identifier_type"] == "customer_id"]
    crm_per_customer = crm.groupby("customer_id")["identifier"].transform("size")
    return IdentityReport(
        records=int(keys["records"].sum()),
        identifiers=len(identity_map),
        customers=int(key_customers.nunique()),
        records_merged=int(keys.loc[keys_per_customer > 1, "records"].sum()),
        crm_accounts_merged=int((crm_per_customer > 1).sum()),
    )
