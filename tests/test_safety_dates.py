"""Nothing lost, nothing unsafe: impossible and far-off dates are no dates (with a warning) from the sitemap to
the calendar, feeds and sitemaps give update times to the second, and duplicate clusters build in flat memory."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import random
import re
from pathlib import Path

import duckdb
import icalendar
import jinja2
import pytest
import yaml

import warehouse.calendar as calendar_module
from scrapers import events, places
from scrapers.dates import FIRST_PLAUSIBLE_YEAR, LAST_PLAUSIBLE_YEAR, find_dates, is_plausible, plausible
from scrapers.discovery import parse_feed, parse_sitemap
from scrapers.extract import extract_article
from scrapers.extract.markup import parse_html
from scrapers.extract.metadata import machine_date, read_meta
from warehouse.calendar import EventRow, build_calendar, export_ics, read_events

ROOT = Path(__file__).resolve().parents[1]
SITEMAP_URL = "https://www.example.de/sitemap.xml"
FEED_URL = "https://www.example.de/feed.xml"


def sitemap(*entries: tuple[str, str]) -> str:
    urls = "".join(f"<url><loc>{loc}</loc><lastmod>{lastmod}</lastmod></url>" for loc, lastmod in entries)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


def rss(*dates: str) -> str:
    items = "".join(f"<item><link>https://www.example.de/news/{i}</link><pubDate>{d}</pubDate></item>"
                    for i, d in enumerate(dates))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>{items}</channel></rss>'


def article_page(head: str = "", before: str = "") -> str:
    body = "<p>" + ("Die Stadt Konstanz lädt am 4. Dezember zum Bürgerdialog über die Digitalisierung ein, "
                    "Beginn ist um 18 Uhr im Rathaus Konstanz. ") * 3 + "</p>"
    return (f"<html><head><title>Bürgerdialog in Konstanz</title>{head}</head><body><article>"
            f"<h1>Bürgerdialog in Konstanz</h1>{before}{body}</article></body></html>")


# --- 3. Dates out of range --------------------------------------------------------------------------------


def test_the_plausible_window_is_one_fixed_pair_of_years():
    assert (FIRST_PLAUSIBLE_YEAR, LAST_PLAUSIBLE_YEAR) == (1990, 2100)
    assert is_plausible(dt.date(1990, 1, 1)) and is_plausible(dt.datetime(2100, 12, 31, 23, 59))
    assert not is_plausible(dt.date(1989, 12, 31)) and not is_plausible(dt.date(9999, 12, 31))
    assert not is_plausible(None)


def test_plausible_warns_with_the_value_and_its_origin(caplog):
    with caplog.at_level(logging.WARNING):
        assert plausible(dt.date(2025, 3, 1), "https://x.de/a") == dt.date(2025, 3, 1)
        assert not caplog.records
        assert plausible(dt.date(1, 1, 1), "https://x.de/a (lastmod)") is None
    assert "https://x.de/a (lastmod)" in caplog.text and "0001-01-01" in caplog.text


def test_sitemap_lastmod_far_off_or_impossible_is_no_date_with_one_warning(caplog):
    text = sitemap(("https://www.example.de/a", "9999-12-31"), ("https://www.example.de/b", "0001-01-01T10:00:00Z"),
                   ("https://www.example.de/c", "2025-02-31"), ("https://www.example.de/d", "2025-03-02"),
                   ("https://www.example.de/e", "2025-03"))
    with caplog.at_level(logging.WARNING, logger="scrapers.discovery"):
        links, _ = parse_sitemap(text, SITEMAP_URL)
    # Every link is kept (nothing lost); only the dates go.
    assert [(link.url.rsplit("/", 1)[-1], link.published) for link in links] == [
        ("a", None), ("b", None), ("c", None), ("d", dt.date(2025, 3, 2)), ("e", None)]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # one per sitemap, however many entries carry the placeholder
    message = warnings[0].getMessage()
    assert SITEMAP_URL in message and "3 lastmod" in message
    assert "'9999-12-31' for https://www.example.de/a" in message and "2025-02-31" in message


def test_feed_dates_out_of_range_cost_neither_the_feed_nor_its_links(caplog):
    # feedparser moves 9999-12-31T23:00-05:00 into the year 10000, rolls 31 February over to 3 March and reads
    # the year 0001 as 100.
    text = rss("9999-12-31T23:00:00-05:00", "2025-02-31T10:00:00Z", "Mon, 01 Jan 0001 00:30:00 +0100",
               "Sat, 01 Mar 2025 10:00:00 +0100")
    with caplog.at_level(logging.WARNING, logger="scrapers.discovery"):
        links = parse_feed(text, FEED_URL)
    assert [link.published for link in links] == [None, None, None, dt.date(2025, 3, 1)]
    assert [link.updated_at for link in links][:3] == [None, None, None]
    assert FEED_URL in caplog.text and "3 pubDate" in caplog.text and "2025-02-31T10:00:00Z" in caplog.text


def test_a_yearless_date_never_takes_a_far_off_reference_year(caplog):
    with caplog.at_level(logging.WARNING, logger="scrapers.dates"):
        assert find_dates("Der Bürgerdialog findet am 4. Dezember statt.", dt.date(9998, 6, 1)) == []
        assert find_dates("Anmeldung bis 26.02.", dt.date(9998, 6, 1)) == []
    assert "9998-06-01" in caplog.text
    # A plausible reference still lends its year, and a written year needs none.
    assert find_dates("am 4. Dezember", dt.date(2025, 6, 1))[0].date == dt.date(2025, 12, 4)
    assert find_dates("am 4. Dezember 2025", dt.date(9998, 6, 1))[0].date == dt.date(2025, 12, 4)


def test_text_dates_outside_the_window_are_no_dates():
    assert find_dates("Am 9. November 1989 fiel die Mauer.") == []
    assert find_dates("Vom 30.12.2099 bis 2.1.2100") != []  # the window's last year is still in


def test_an_article_with_a_far_off_sitemap_date_is_extracted_and_has_no_far_off_events():
    """The chain of the issue: sitemap lastmod 9998 -> feed_date hint -> yearless date in the text -> event."""
    links, _ = parse_sitemap(sitemap(("https://www.konstanz.de/a", "9998-06-01")), SITEMAP_URL)
    record = extract_article(article_page(), links[0].url, feed_date=links[0].published)
    assert record is not None and record.published_date is None
    found = events.find_events(record, places.find_cities(record.body_text))
    assert all(is_plausible(e.start_date) for e in found)


@pytest.mark.parametrize("value", ["31.02.2025", "2025-02-31", "2025-02-31T10:00:00+01:00", "20250231"])
def test_an_impossible_day_is_no_date_with_a_warning(value, caplog):
    with caplog.at_level(logging.WARNING):
        assert machine_date(value, "JSON-LD datePublished") is None
    assert "JSON-LD datePublished" in caplog.text and value in caplog.text
    assert find_dates(value) == []


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01T00:00:00Z", "Fri, 31 Dec 9999 10:00:00 +0000",
                                   "1970-01-01T00:00:00Z"])
def test_far_off_machine_dates_are_no_dates_with_a_warning(value, caplog):
    with caplog.at_level(logging.WARNING):
        assert machine_date(value, "<meta> publication date") is None
    assert "<meta> publication date" in caplog.text


def test_a_null_placeholder_is_no_date_without_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        assert machine_date("0000-00-00 00:00:00") is None
    assert not caplog.records


def test_json_ld_far_off_date_is_dropped_and_named(caplog):
    doc = parse_html('<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": "X", '
                     '"datePublished": "9999-12-31"}</script></head><body><p>x</p></body></html>')
    with caplog.at_level(logging.WARNING):
        assert read_meta(doc).published is None
    assert "JSON-LD datePublished" in caplog.text and "9999-12-31" in caplog.text


@pytest.mark.parametrize("markup", [
    {"head": '<meta name="date" content="31.02.2025">'},
    {"head": '<meta property="article:published_time" content="2025-02-31T10:00:00+01:00">'},
    {"before": '<time datetime="2025-02-31">31.02.2025</time>'},
    {"before": '<span class="date">31.02.2025</span>'},
])
def test_an_impossible_day_on_a_page_is_not_read_as_the_first_of_its_month(markup):
    """htmldate, asked when the page states no usable date, read these as 2025-02-01. (It caches its readings,
    so its warning is only said the first time a string comes by.)"""
    record = extract_article(article_page(**markup), "https://www.konstanz.de/a")
    assert record is not None and record.published_date is None


def test_htmldate_keeps_reading_real_days():
    from htmldate import find_date

    for written in ("28.02.2025", "2025-02-28T10:00:00+01:00", "2025/02/28"):
        page = f'<html><head><meta name="date" content="{written}"></head><body><p>x</p></body></html>'
        assert find_date(page, original_date=True, extensive_search=False) == "2025-02-28", written


def event(event_id: str, start: dt.date, **fields) -> EventRow:
    return EventRow(event_id=event_id, name=event_id, start_date=start, url=f"https://x.de/{event_id}", **fields)


def test_calendar_leaves_out_far_off_events_and_writes_the_rest(caplog):
    rows = [event("end_of_time", dt.date(9999, 12, 31)),  # DTEND = +1 day overflowed
            event("timed_end_of_time", dt.date(9999, 12, 31), start_time=dt.time(23, 0)),
            event("far", dt.date(9998, 12, 4), start_time=dt.time(10, 0)),  # time zones up to "year 10000"
            event("open_end", dt.date(2025, 12, 4), end_date=dt.date(9999, 1, 1), start_time=dt.time(10, 0)),
            event("fine", dt.date(2025, 12, 5)),
            event("last_plausible", dt.date(2100, 12, 31), start_time=dt.time(23, 0))]
    with caplog.at_level(logging.WARNING, logger="warehouse.calendar"):
        data = build_calendar(rows).to_ical()
    written = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}
    assert set(written) == {"open_end@stadtradar", "fine@stadtradar", "last_plausible@stadtradar"}
    assert written["open_end@stadtradar"].decoded("DTEND") - written["open_end@stadtradar"].decoded("DTSTART") \
        == dt.timedelta(hours=2)  # the far-off end day is no end day
    for name in ("end_of_time", "timed_end_of_time", "far"):
        assert f"event {name} (https://x.de/{name})" in caplog.text
    assert "9999-01-01" in caplog.text


def test_calendar_leaves_out_an_event_it_cannot_write(monkeypatch, caplog):
    real = calendar_module.event_times

    def failing(row):
        if row.event_id == "broken":
            raise OverflowError("date value out of range")
        return real(row)

    monkeypatch.setattr(calendar_module, "event_times", failing)
    with caplog.at_level(logging.WARNING, logger="warehouse.calendar"):
        data = build_calendar([event("broken", dt.date(2025, 1, 1)), event("fine", dt.date(2025, 1, 2))]).to_ical()
    assert [str(e["UID"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")] == ["fine@stadtradar"]
    assert "event broken" in caplog.text and "OverflowError" in caplog.text


@pytest.fixture
def far_off_events_db(tmp_path: Path) -> Path:
    db = tmp_path / "events.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema marts")
    con.execute("create table marts.articles (article_id varchar, url varchar, title varchar, source_id varchar,"
                " published_date date)")
    con.execute("insert into marts.articles values ('a1', 'https://x.de/1', 'Bericht', 'dresden', '9998-06-01'), "
                "('a2', 'https://x.de/2', 'Bericht', 'dresden', '2025-01-01')")
    con.execute("create table marts.events (event_id varchar, name varchar, start_date date, end_date date,"
                " start_time time, end_time time, venue varchar, article_id varchar)")
    # DuckDB holds years past 9999, which Python cannot read.
    con.execute("""insert into marts.events values
        ('far', 'Bürgerdialog', '9998-12-04', null, '18:00', null, null, 'a1'),
        ('beyond', 'Kaputt', '12000-01-01', null, null, null, null, 'a1'),
        ('endless', 'Messe', '2025-03-01', '12000-01-01', null, null, null, 'a2'),
        ('fine', 'Workshop', '2025-03-02', null, '10:00', null, null, 'a2')""")
    con.close()
    return db


def test_export_writes_every_writable_event_and_warns_about_the_others(far_off_events_db, tmp_path, caplog):
    out = tmp_path / "events.ics"
    out.write_bytes(b"old calendar")
    con = duckdb.connect(str(far_off_events_db), read_only=True)
    try:
        with caplog.at_level(logging.WARNING, logger="warehouse.calendar"):
            assert [r.event_id for r in read_events(con)] == ["endless", "fine"]
            assert export_ics(con, out) == 2
    finally:
        con.close()
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")}
    assert set(events) == {"endless@stadtradar", "fine@stadtradar"}
    assert events["endless@stadtradar"].decoded("DTEND") == dt.date(2025, 3, 2)
    assert "event far (https://x.de/1) starts on 9998-12-04" in caplog.text
    assert "event beyond" in caplog.text and "12000-01-01" in caplog.text
    assert not list(tmp_path.glob(".*.partial"))


def test_a_failed_export_keeps_the_old_file_and_leaves_no_partial_one(far_off_events_db, tmp_path, monkeypatch):
    out = tmp_path / "events.ics"
    out.write_bytes(b"old calendar")

    def full_disk(self, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", full_disk)
    con = duckdb.connect(str(far_off_events_db), read_only=True)
    try:
        with pytest.raises(OSError):
            export_ics(con, out)
    finally:
        con.close()
    assert out.read_bytes() == b"old calendar"
    assert not list(tmp_path.glob(".*.partial"))


# --- 23. Update times to the second ----------------------------------------------------------------------


def test_feed_entries_carry_their_update_time_in_naive_utc():
    atom = """<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>N</title>
    <entry><link href="https://www.example.de/a"/><published>2025-03-01T08:00:00+01:00</published>
      <updated>2025-03-02T09:30:15+01:00</updated></entry>
    <entry><link href="https://www.example.de/b"/><published>2025-03-01T23:30:00Z</published></entry>
    <entry><link href="https://www.example.de/c"/><updated>2025-03-04</updated></entry>
    </feed>"""
    a, b, c = parse_feed(atom, FEED_URL)
    assert (a.published, a.updated_at) == (dt.date(2025, 3, 1), dt.datetime(2025, 3, 2, 8, 30, 15))
    assert (b.published, b.updated_at) == (dt.date(2025, 3, 1), dt.datetime(2025, 3, 1, 23, 30))
    assert (c.published, c.updated_at) == (dt.date(2025, 3, 4), None)  # a day without a time is no time
    (item,) = parse_feed(rss("Sat, 01 Mar 2025 10:00:00 +0100"), FEED_URL)
    assert item.updated_at == dt.datetime(2025, 3, 1, 9, 0) and item.updated_at.tzinfo is None


def test_sitemap_lastmod_with_a_time_gives_update_time_in_naive_utc():
    links, _ = parse_sitemap(sitemap(("https://www.example.de/a", "2024-03-02T10:00:00+01:00"),
                                     ("https://www.example.de/b", "2024-03-02T10:00:00.5Z"),
                                     ("https://www.example.de/c", "2024-03-02T10:00"),
                                     ("https://www.example.de/d", "2024-03-02")), SITEMAP_URL)
    assert [(link.published, link.updated_at) for link in links] == [
        (dt.date(2024, 3, 2), dt.datetime(2024, 3, 2, 9, 0)),
        (dt.date(2024, 3, 2), dt.datetime(2024, 3, 2, 10, 0, 0, 500000)),
        (dt.date(2024, 3, 2), dt.datetime(2024, 3, 2, 10, 0)),  # no offset: taken as UTC
        (dt.date(2024, 3, 2), None)]
    assert all(link.updated_at is None or link.updated_at.tzinfo is None for link in links)


# --- 4. Near-duplicate clusters in flat memory ------------------------------------------------------------

CANONICAL_IDS_MODEL = ROOT / "dbt" / "models" / "intermediate" / "int_article_canonical_ids.sql"


def build_memory_limit() -> str:
    """The memory limit a dbt build runs with by default (dbt/profiles.yml)."""
    profile = (ROOT / "dbt" / "profiles.yml").read_text(encoding="utf-8")
    return re.search(r"memory_limit:.*env_var\('STADTRADAR_DBT_MEMORY_LIMIT',\s*'([^']+)'\)", profile).group(1)


def canonical_ids_sql() -> str:
    """The model's SQL with ref() and var() resolved as dbt would, reading the table int_articles."""
    project_vars = yaml.safe_load((ROOT / "dbt" / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    return jinja2.Template(CANONICAL_IDS_MODEL.read_text(encoding="utf-8")).render(
        ref=lambda name: name, var=lambda name, default=None: project_vars.get(name, default))


def stories(rng: random.Random, sizes: list[int], singles: int, chain: bool) -> list[tuple]:
    """int_articles rows: one story per size, copied to that many URLs with other content hashes; a star
    (every copy at most one bit from the story) or a chain (every copy one bit from the copy before)."""
    rows = []
    for story, size in enumerate(sizes):
        base = current = rng.getrandbits(64)
        for copy in range(size):
            if chain:
                current ^= 1 << rng.randrange(64)
                simhash = current
            else:
                simhash = base if copy % 2 else base ^ (1 << rng.randrange(64))
            # Copy 7 of each story is published first: it must become the canonical article.
            published = dt.date(2025, 1, 1) if copy == 7 else dt.date(2025, 2, 1) + dt.timedelta(days=copy % 200)
            rows.append((f"s{story}-{copy:04d}", f"https://site{copy % 40}.de/story{story}/{copy}", published,
                         hashlib.sha256(f"{story}-{copy}".encode()).hexdigest(), simhash))
    rows += [(f"single-{i:04d}", f"https://x.de/{i}", dt.date(2025, 3, 1), hashlib.sha256(str(i).encode()).hexdigest(),
              rng.getrandbits(64)) for i in range(singles)]
    return rows


def run_model(db: Path, rows: list[tuple], memory_limit: str) -> dict[str, str]:
    # Through a CSV file: inserting 4,500 rows one by one would take longer than the model.
    table = db.with_suffix(".csv")
    with open(table, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    con = duckdb.connect(str(db))
    try:
        con.execute(f"set threads = 1; set memory_limit = '{memory_limit}'")  # as dbt/profiles.yml sets them
        con.execute("create table int_articles as select * from read_csv(?, header = false, columns = {"
                    "'article_id': 'varchar', 'url': 'varchar', 'published_date': 'date', 'dedup_key': 'varchar', "
                    "'near_duplicate_simhash': 'ubigint'})", [str(table)])
        return dict(con.execute(f"select article_id, canonical_article_id from ({canonical_ids_sql()})").fetchall())
    finally:
        con.close()


@pytest.mark.parametrize("chain", [False, True], ids=["star", "chain"])
def test_4500_articles_with_stories_at_1000_urls_build_under_the_default_memory_limit(tmp_path, chain):
    """The transitive closure this model used to compute holds every pair of a cluster: Out of Memory at 64MB
    for a story at 1,000 URLs. Labels per node need memory for the nodes, not for their pairs."""
    rows = stories(random.Random(7), [1000, 600, 300], singles=2600, chain=chain)
    canonical = run_model(tmp_path / "w.duckdb", rows, build_memory_limit())
    assert len(canonical) == len(rows) == 4500
    for story in range(3):
        assert {canonical[r[0]] for r in rows if r[0].startswith(f"s{story}-")} == {f"s{story}-0007"}
    assert all(canonical[r[0]] == r[0] for r in rows if r[0].startswith("single-"))


def python_clusters(rows: list[tuple], max_bits: int) -> dict[str, str]:
    """The model's meaning, by brute force: union-find over equal dedup_keys and SimHashes at most max_bits
    apart; each cluster represented by its earliest-published article (then shorter URL, then URL)."""
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    simhash_of_key: dict[str, int] = {}
    for _, _, _, key, simhash in rows:
        if simhash is not None:
            simhash_of_key[key] = min(simhash, simhash_of_key.get(key, simhash))
    for i, a in enumerate(rows):
        for j in range(i):
            b = rows[j]
            same_key = a[3] == b[3]
            near = a[3] in simhash_of_key and b[3] in simhash_of_key and \
                bin(simhash_of_key[a[3]] ^ simhash_of_key[b[3]]).count("1") <= max_bits
            if same_key or near:
                parent[root(i)] = root(j)
    members: dict[int, list[tuple]] = {}
    for i, row in enumerate(rows):
        members.setdefault(root(i), []).append(row)
    canonical = {}
    for group in members.values():
        first = min(group, key=lambda r: (r[2] is None, r[2] or dt.date.min, len(r[1]), r[1]))
        canonical.update({r[0]: first[0] for r in group})
    return canonical


def test_canonical_ids_mean_connected_components_of_near_duplicates(tmp_path):
    rng = random.Random(11)
    rows = []
    bases = [rng.getrandbits(64) for _ in range(5)]
    for i in range(250):
        simhash = rng.choice(bases)
        for _ in range(rng.randrange(5)):
            simhash ^= 1 << rng.randrange(64)
        key = rng.choice([f"shared-{rng.randrange(40)}", f"own-{i}"])
        published = rng.choice([None, dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(60))])
        rows.append((f"a{i:03d}", f"https://x.de/{rng.randrange(1000)}/{i}", published, key,
                     None if rng.random() < 0.1 else simhash))
    max_bits = yaml.safe_load((ROOT / "dbt" / "dbt_project.yml").read_text(encoding="utf-8"))["vars"][
        "near_duplicate_max_bits"]
    assert run_model(tmp_path / "w.duckdb", rows, "1GB") == python_clusters(rows, max_bits)
