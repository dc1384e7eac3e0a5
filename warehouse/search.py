"""Full-text search over marts.articles with DuckDB fts (BM25, German stemmer), never writing the warehouse.

`PRAGMA create_fts_index` needs a writable database, and `search` must neither write the warehouse nor hold
it open for writing. So the index lives in its own small DuckDB file (by default in the user's cache
directory, one per warehouse path): built by ATTACHing the warehouse READ_ONLY and copying
(article_id, text) into it, then reused while a fingerprint of the articles is unchanged. Building takes
seconds for 20,000 articles (tens of seconds on a busy machine); a search on a fresh index well under one.
When the cache cannot be written, the index is built in memory for that one search.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.db import WarehouseError, load_fts, one_row, scalar

# Common German function words (and a few English ones, some articles are English). BM25 would weigh them
# low anyway; removing them keeps a query like "Hitzeschutz in der Stadt" from matching every article.
_STOPWORDS_TEXT = """
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes anderm andern
anders auch auf aus bei beim bin bis bist da damit dann das dass dasselbe dazu dein deine deinem deinen
deiner deines dem demselben den denn denselben der derer derselbe derselben des desselben dessen dich die
dies diese dieselbe dieselben diesem diesen dieser dieses dir doch dort du durch ein eine einem einen einer
eines einig einige einigem einigen einiger einiges einmal er es etwas euch euer eure eurem euren eurer eures
fur für gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem
ihren ihrer ihres im in indem ins ist jede jedem jeden jeder jedes jene jenem jenen jener jenes jetzt kann
kein keine keinem keinen keiner keines konnen können konnte könnte machen man manche manchem manchen mancher
manches mein meine meinem meinen meiner meines mich mir mit muss musste nach nicht nichts noch nun nur ob
oder ohne sehr sein seine seinem seinen seiner seines selbst sich sie sind so solche solchem solchen solcher
solches soll sollte sondern sonst uber über um und uns unser unsere unserem unseren unserer unseres unter
viel vom von vor wahrend während war waren warst was weg weil weiter welche welchem welchen welcher welches
wenn werde werden wie wieder will wir wird wirst wo wollen wollte wurde wurden würde würden zu zum zur zwar
zwischen
a an and are as at be by for from in is it of on or the this to was were will with
"""
GERMAN_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

# Keep letters (after accent stripping), digits and ß; everything else separates words.
IGNORE_PATTERN = r"(\.|[^a-z0-9ß])+"


def query_terms(query: str) -> list[str]:
    """The words of a query without stopwords (the fts macros do not drop stopwords from the query side)."""
    return [w for w in re.findall(r"[^\W_]+", query) if w.casefold() not in GERMAN_STOPWORDS]


class SearchError(ValueError):
    """A search cannot be run as asked (empty query, unknown city); the message says why."""


@dataclass(frozen=True)
class SearchHit:
    """One article found, with its BM25 score (higher is better)."""

    article_id: str
    title: str | None
    published_date: dt.date | None
    source_id: str | None
    url: str | None
    score: float


def default_index_path(db: Path) -> Path:
    """Where the search index of the warehouse at db is cached: $XDG_CACHE_HOME/stadtradar (or ~/.cache)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stadtradar"
    key = hashlib.sha256(str(Path(db).resolve()).encode()).hexdigest()[:16]
    return cache / f"search-{key}.duckdb"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _attach_warehouse(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    db = Path(db)
    if not db.exists():
        raise WarehouseError(f"{db}: no warehouse here yet (run `stadtradar run` or `make demo` first)")
    try:
        con.execute(f"ATTACH {_quote(str(db.resolve()))} AS wh (READ_ONLY)")
    except duckdb.Error as exc:
        raise WarehouseError(f"{db}: cannot open read-only: {exc}") from None


def _fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Changes whenever an article is added, removed or its indexed text changes."""
    try:
        count, digest = one_row(
            con, "select count(*), coalesce(bit_xor(hash(article_id, title, teaser, body_text)), 0)"
            " from wh.marts.articles")
    except duckdb.CatalogException as exc:
        raise WarehouseError(f"the warehouse has no marts.articles yet (run `stadtradar run`): {exc}") from None
    return f"{count}:{digest}"


def build_index(con: duckdb.DuckDBPyConnection, articles: str = "wh.marts.articles") -> None:
    """Copy the articles into the table `docs` of con and build its fts index (German stemmer, stopwords).

    The title is indexed twice, a simple field boost: a word in the headline counts more than one in the body.
    """
    load_fts(con)
    con.execute("create or replace table stopwords (sw varchar)")
    con.executemany("insert into stopwords values (?)", [[w] for w in sorted(GERMAN_STOPWORDS)])
    con.execute(f"""
        create or replace table docs as
        select article_id, concat_ws(' ', title, title, teaser, body_text) as text
        from {articles}
    """)
    con.execute(
        "pragma create_fts_index('docs', 'article_id', 'text', stemmer = 'german', stopwords = 'stopwords',"
        f" ignore = '{IGNORE_PATTERN}', strip_accents = 1, lower = 1, overwrite = 1)")


def _cached_fingerprint(index: Path) -> str | None:
    if not index.exists():
        return None
    try:
        with duckdb.connect(str(index), read_only=True) as con:
            row = con.execute("select fingerprint from index_meta").fetchone()
            return row[0] if row else None  # an empty index_meta: rebuild
    except duckdb.Error:
        return None  # unreadable or from an older layout: rebuild


def _write_index(db: Path, index: Path, fingerprint: str) -> None:
    """Build the index into a scratch file beside index, then rename it into place (atomic for readers)."""
    index.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch_name = tempfile.mkstemp(prefix=f".{index.name}.", suffix=".partial", dir=index.parent)
    os.close(fd)
    scratch = Path(scratch_name)
    scratch.unlink()  # DuckDB wants to create the file itself
    try:
        with duckdb.connect(str(scratch)) as con:
            _attach_warehouse(con, db)
            build_index(con)
            con.execute("create table index_meta as select ? as fingerprint, ? as warehouse, now() as built_at",
                        [fingerprint, str(Path(db).resolve())])
            con.execute("detach wh")
            con.execute("checkpoint")
        os.replace(scratch, index)
    finally:
        scratch.unlink(missing_ok=True)
        Path(f"{scratch}.wal").unlink(missing_ok=True)


def ensure_index(db: Path, index: Path | None = None) -> tuple[Path, bool]:
    """Make sure index holds a search index of the warehouse's current articles; return (index, rebuilt)."""
    index = Path(index) if index else default_index_path(db)
    if index.exists() and Path(db).exists() and index.samefile(db):
        # A rebuild replaces the index file: here that would replace the warehouse with a search index.
        raise SearchError(f"--index {index} is the warehouse itself; give a file of its own for the search index")
    with duckdb.connect(":memory:") as con:
        _attach_warehouse(con, db)
        fingerprint = _fingerprint(con)
    if _cached_fingerprint(index) == fingerprint:
        return index, False
    _write_index(db, index, fingerprint)
    return index, True


def run_search(con: duckdb.DuckDBPyConnection, query: str, city: str | None = None, since: dt.date | None = None,
               limit: int = 20, schema: str = "wh.marts") -> list[SearchHit]:
    """Rank the articles indexed in con (table docs) by BM25 for query; city (name, case-insensitive) and since
    filter them. The warehouse's marts are read from schema."""
    if limit < 1:
        raise SearchError(f"--limit must be at least 1, not {limit}")
    filters: list[str] = []
    params: list[object] = [query]
    if city:
        known = scalar(con, f"select count(*) from {schema}.cities where lower(name) = lower(?)", [city])
        if not known:
            raise SearchError(f"no city named {city!r} in marts.cities")
        filters.append(f"a.article_id in (select ac.article_id from {schema}.article_cities ac"
                       f" join {schema}.cities c using (city_id) where lower(c.name) = lower(?))")
        params.append(city)
    if since:
        filters.append("a.published_date >= ?")
        params.append(since)
    params.append(limit)
    where = "".join(f" and {f}" for f in filters)
    rows = con.execute(f"""
        with scored as (
            select article_id, fts_main_docs.match_bm25(article_id, ?) as score from docs
        )
        select a.article_id, a.title, a.published_date, a.source_id, a.url, s.score
        from scored s join {schema}.articles a using (article_id)
        where s.score is not null{where}
        order by s.score desc, a.published_date desc nulls last, a.article_id
        limit ?
    """, params).fetchall()
    return [SearchHit(*row) for row in rows]


def search_articles(db: Path, query: str, city: str | None = None, since: dt.date | None = None,
                    limit: int = 20, index: Path | None = None) -> list[SearchHit]:
    """Search the articles of the warehouse at db (opened read-only) for query; best match first.

    index: the cached index file (default: default_index_path(db)); rebuilt when the articles changed.
    Raises SearchError for an empty query or an unknown city, WarehouseError when the file cannot be read.
    """
    if not query or not query.strip():
        raise SearchError("the search query is empty; give one or more words, e.g. `stadtradar search Hitzeschutz`")
    terms = query_terms(query)
    if not terms:
        raise SearchError(f"the search query {query!r} has only stopwords or punctuation; give a content word")
    try:
        index_file, _ = ensure_index(db, index)
        con = duckdb.connect(str(index_file), read_only=True)
    except (OSError, duckdb.IOException, duckdb.PermissionException):
        con = duckdb.connect(":memory:")  # the cache is not writable: index in memory, for this search only
        _attach_warehouse(con, db)
        build_index(con)
    else:
        load_fts(con)
        _attach_warehouse(con, db)
    # The query's words and the city only ever reach the SQL as bound parameters; all the same, once fts is
    # loaded and the warehouse attached, this connection has no business with files, extensions or settings.
    # SET, not connect-time settings as for `query`: LOAD fts needs file access first. (SET applies to the
    # whole index file's instance in this process; a search opens and closes its own.)
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    with con:
        return run_search(con, " ".join(terms), city=city, since=since, limit=limit)
