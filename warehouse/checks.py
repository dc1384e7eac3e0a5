"""The source checks' ledger: what `check-sources` found, stored in ops.source_checks and read back for status."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from scrapers.sitecheck import VERDICTS
from warehouse.bulk import insert_rows
from warehouse.db import dict_rows


def record_checks(con: duckdb.DuckDBPyConnection, checked_at: dt.datetime,
                  checks: Sequence[Mapping[str, Any]]) -> None:
    """Store one check per source (`SourceCheck.to_dict()`: source_id, verdict, reasons, suggestions and the
    rest as details), all under `checked_at`; a check stored again under the same time replaces the first."""
    rows = []
    for check in checks:
        if check["verdict"] not in VERDICTS:
            raise ValueError(f"{check['source_id']}: verdict {check['verdict']!r} is none of {', '.join(VERDICTS)}")
        rows.append([checked_at, check["source_id"], check["verdict"], list(check.get("reasons") or []),
                     # a JSON value, not its text (the bulk insert writes JSON lines): dates become strings
                     list(check.get("suggestions") or []), json.loads(json.dumps(check, default=str))])
    insert_rows(con, "ops.source_checks", rows, "replace")


def latest_checks(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The latest check of every source that has one, by source id."""
    return dict_rows(con, """
        select source_id, checked_at, verdict, reasons, suggestions from ops.source_checks
        qualify row_number() over (partition by source_id order by checked_at desc) = 1
        order by source_id""")
