"""Migration 0002: the page bodies leave raw.pages for WARC files (warehouse/archive.py); raw.pages becomes their index.

Every stored body is written as a response record to `<source_id>/<run_id>.warc.gz` of the warehouse's archive
folder (the run that first fetched it), and raw.pages is replaced by a table with the same rows and metadata,
without the body, with warc_file, warc_offset and warc_length. Safe to kill at any point:

- the records are written to a scratch folder first (`.migrating/`, emptied when a migration starts), so an
  earlier attempt's files are never appended to;
- every file is complete and fsynced before it is moved into place, and moved before the transaction that
  swaps the table commits, so no index row ever points at bytes that are not there;
- the swap (new table filled, old one dropped, new one renamed, version recorded) is one transaction: until it
  commits, the warehouse holds its bodies as before and the next open runs this migration again, replacing
  the files an earlier attempt moved (no index row points into them).
"""
from __future__ import annotations

import os
import shutil
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb

from scrapers.records import FetchedPage
from warehouse.archive import RecordRef, append_pages, archive_folder, run_file
from warehouse.bulk import insert_rows
from warehouse.db import WarehouseError, scalar
from warehouse.migrations.unversioned import unpack_body

SCRATCH = ".migrating"
CHUNK = 200  # pages read per query: bodies are up to the body cap each, so this bounds the memory

# The index, as it stands after this migration (the comments of 0001 for the columns it keeps still hold).
INDEX = """
create table raw.pages_index (
    url            varchar not null,      -- canonical URL of the page as requested
    content_hash   varchar not null,      -- sha256 of the decoded body
    source_id      varchar not null,
    requested_url  varchar not null,
    final_url      varchar not null,      -- after same-host redirects (the WARC-Target-URI of the record)
    status         integer not null,
    content_type   varchar,
    etag           varchar,
    last_modified  varchar,
    body_chars     integer,               -- length of the decoded text in characters
    page_kind      varchar not null,      -- article | listing | feed | sitemap
    fetched_at     timestamp not null,    -- first time this body was fetched
    run_id         varchar not null,      -- the run that first fetched this body
    warc_file      varchar not null,      -- the WARC file holding the body, relative to the archive folder
    warc_offset    bigint not null,       -- where its response record (one gzip member) starts in that file
    warc_length    bigint not null        -- and its length in bytes
)
"""
KEPT = ("url, content_hash, source_id, requested_url, final_url, status, content_type, etag, last_modified, "
        "body_chars, page_kind, fetched_at, run_id")


def migrate(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    """Write the bodies of raw.pages to WARC files and make raw.pages their index (see the module's text)."""
    columns = {c for (c,) in con.execute(
        "select column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = 'raw' and table_name = 'pages'").fetchall()}
    if "body" not in columns:
        return  # already an index: nothing holds a body to move
    folder = archive_folder(db)
    scratch = folder / SCRATCH
    shutil.rmtree(scratch, ignore_errors=True)
    con.execute(INDEX)
    files: set[str] = set()
    last = -1
    while rows := con.execute(
            f"select rowid, {KEPT}, body from raw.pages where rowid > ? order by rowid limit ?",
            [last, CHUNK]).fetchall():
        last = rows[-1][0]
        insert_rows(con, "raw.pages_index", _write_chunk(scratch, [r[1:] for r in rows], files))
    held, indexed = (scalar(con, f"select count(*) from {t}") for t in ("raw.pages", "raw.pages_index"))
    if held != indexed:
        raise WarehouseError(f"{db}: {held} pages in raw.pages but {indexed} written to WARC; nothing changed")
    _move_into_place(scratch, folder, sorted(files))
    con.execute("drop table raw.pages")
    con.execute("alter table raw.pages_index rename to pages")


def _write_chunk(scratch: Path, rows: list[tuple[Any, ...]], files: set[str]) -> list[list[Any]]:
    """Append the bodies of these raw.pages rows (KEPT columns, then body) to their run files under `scratch`;
    returns their index rows."""
    by_file: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_file[run_file(row[2], row[12])].append(row)
    index: list[list[Any]] = []
    for file, group in by_file.items():
        pages = [_page(row, scratch / file) for row in group]
        refs: list[RecordRef] = append_pages(scratch, file, pages)
        files.add(file)
        index.extend([*row[:13], ref.file, ref.offset, ref.length] for row, ref in zip(group, refs, strict=True))
    return index


def _page(row: tuple[Any, ...], file: Path) -> FetchedPage:
    (url, _, source_id, requested_url, final_url, status, content_type, etag, last_modified, _, kind, fetched_at,
     _, body) = row
    try:
        text = unpack_body(body)
    except (zlib.error, UnicodeDecodeError) as exc:
        raise WarehouseError(f"raw.pages: the stored body of {url} cannot be read ({exc}); it was not written "
                             f"to {file} and nothing changed") from None
    return FetchedPage(source_id, requested_url, final_url, status, content_type or "", text, fetched_at,
                       etag=etag, last_modified=last_modified, kind=kind)


def _move_into_place(scratch: Path, folder: Path, files: list[str]) -> None:
    """Move the finished files from the scratch folder to their places (replacing what an earlier, unfinished
    attempt moved there), then remove the scratch folder."""
    if not files:
        return  # a warehouse without pages (a new one): no archive folder yet
    for file in files:
        target = folder / file
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch / file, target)
    for parent in {(folder / f).parent for f in files} | {folder}:
        handle = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(handle)  # the moves must be on disk before the index that points at them commits
        finally:
            os.close(handle)
    shutil.rmtree(scratch, ignore_errors=True)
