"""The static website: events, map, programmes, cities, articles and sources, generated from the warehouse's marts.

`read_site(con)` reads what the pages show (read-only); `write_site(data, out)` renders them with Jinja2 (every
scraped string escaped) into a folder that opens from the file system or any static host, with no network:
no CDN, no map tiles; the map of Germany is a bundled SVG (warehouse/germany_map.py).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from warehouse.calendar import EventRow, build_calendar, read_events
from warehouse.db import dict_rows as _rows

TEMPLATES = Path(__file__).parent / "site_templates"
ASSETS = Path(__file__).parent / "site_assets"
WEEKDAYS = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")
MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November",
          "Dezember")
# The search index keeps words of at least this length; shorter ones (articles, prepositions) find everything.
MIN_WORD = 3
_WORD = re.compile(r"[^\W\d_]{" + str(MIN_WORD) + ",}")
SNIPPET_CHARS = 240
# Bounds that keep a page readable and small as the archive grows: the article page lists (and indexes) the newest
# articles, a city page its newest articles, the map's panel a few of each.
MAX_ARTICLES_LISTED = 2000
MAX_CITY_ARTICLES = 50
MAX_PANEL_ITEMS = 10
# Circle radii on the map (SVG units of a 586 x 793 map): the most named city gets the largest.
MIN_RADIUS, MAX_RADIUS = 3.0, 18.0
LOCAL_ZONE = "Europe/Berlin"
# The roles of marts.city_programmes as the German pages name them.
ROLE_LABELS = {"modellprojekt": "Modellprojekt", "mentor_city": "Mentorstadt", "label": "Missionslabel",
               "partner": "Partner", "mentioned": "erwähnt"}


def german_date(day: dt.date | None, weekday: bool = True) -> str:
    """`Do., 19. März 2026` (or without the weekday); empty for no date."""
    if day is None:
        return ""
    text = f"{day.day}. {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]}, {text}" if weekday else text


def german_time(start: dt.time | None, end: dt.time | None) -> str:
    """`17:00–19:00 Uhr`, `17:00 Uhr`, or empty."""
    if start is None:
        return ""
    return f"{start:%H:%M}–{end:%H:%M} Uhr" if end is not None else f"{start:%H:%M} Uhr"


def german_month(month: str) -> str:
    """`2026-03` as `März 2026`."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def local_time(moment: dt.datetime | None) -> str:
    """A naive UTC time of the ledger as German local time: `05.12.2026 06:30`."""
    if moment is None:
        return ""
    from zoneinfo import ZoneInfo

    return moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(LOCAL_ZONE)).strftime("%d.%m.%Y %H:%M")


@dataclass
class SiteEvent:
    event_id: str
    name: str
    start: dt.date
    end: dt.date | None
    start_time: dt.time | None
    end_time: dt.time | None
    venue: str | None
    city_id: str | None
    city_name: str | None
    event_type: str | None
    programme_id: str | None
    article_url: str | None
    article_title: str | None
    source_id: str | None
    report_count: int = 1  # articles reporting the gathering; the fullest one is linked

    @property
    def when(self) -> str:
        if self.end and self.end != self.start:
            return f"{german_date(self.start)} – {german_date(self.end)}"
        return german_date(self.start)

    @property
    def time(self) -> str:
        return german_time(self.start_time, self.end_time)


@dataclass
class SiteCity:
    city_id: str
    name: str
    state: str | None
    latitude: float | None
    longitude: float | None
    article_count: int
    programmes: list[dict[str, Any]] = field(default_factory=list)  # programme_id, name, role, is_stated, evidence
    events: list[SiteEvent] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)  # url, title, date, source


@dataclass
class SiteProgramme:
    programme_id: str
    name: str
    acronym: str | None
    level: str | None
    article_count: int
    members: list[dict[str, Any]] = field(default_factory=list)  # city_id, city, role, is_stated, evidence
    mentions_by_month: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class SiteArticle:
    article_id: str
    title: str
    url: str
    source_id: str
    published: dt.date | None
    is_relevant: bool
    snippet: str
    text: str  # title and body, for the search index only


@dataclass
class SiteData:
    """Everything the pages show, read from the marts in one go."""

    generated: dt.date
    events: list[SiteEvent]
    cities: list[SiteCity]
    programmes: list[SiteProgramme]
    articles: list[SiteArticle]
    sources: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    calendar_rows: list[EventRow] = field(default_factory=list)


def read_site(con: duckdb.DuckDBPyConnection, today: dt.date) -> SiteData:
    """What the pages show, from the marts of an open (read-only) warehouse."""
    calendar_rows = read_events(con)
    extra = {r["event_id"]: r for r in _rows(con, "select event_id, city_id, programme_id, report_count "
                                                  "from marts.events")}
    events = [SiteEvent(
        event_id=row.event_id, name=row.name or "Veranstaltung", start=row.start_date, end=row.end_date,
        start_time=row.start_time, end_time=row.end_time, venue=row.venue,
        city_id=extra.get(row.event_id, {}).get("city_id"), city_name=row.city_name, event_type=row.event_type,
        programme_id=extra.get(row.event_id, {}).get("programme_id"), article_url=row.url,
        article_title=row.article_title, source_id=row.source_id,
        report_count=extra.get(row.event_id, {}).get("report_count") or 1) for row in calendar_rows]
    programme_names = {r["programme_id"]: r["name"]
                       for r in _rows(con, "select programme_id, name from marts.programmes")}
    cities = {r["city_id"]: SiteCity(r["city_id"], r["name"], r["state"], r["latitude"], r["longitude"],
                                     r["article_count"] or 0)
              for r in _rows(con, "select city_id, name, state, latitude, longitude, article_count from marts.cities "
                                  "order by article_count desc, name")}
    memberships = _memberships(_rows(con, "select city_id, programme_id, role, is_stated, evidence "
                                          "from marts.city_programmes order by is_stated desc, programme_id, role"))
    for r in memberships:
        if r["city_id"] in cities:
            name = programme_names.get(r["programme_id"], r["programme_id"])
            cities[r["city_id"]].programmes.append({**r, "name": name})
    for event in events:
        if event.city_id in cities:
            cities[event.city_id].events.append(event)
    for r in _rows(con, """select ac.city_id, a.url, a.title, a.published_date, a.source_id
                          from marts.article_cities ac join marts.articles a using (article_id)
                          order by a.published_date desc nulls last, a.title"""):
        if r["city_id"] in cities and len(cities[r["city_id"]].articles) < MAX_CITY_ARTICLES:
            cities[r["city_id"]].articles.append(r)
    programmes = {r["programme_id"]: SiteProgramme(r["programme_id"], r["name"], r["acronym"], r["level"],
                                                   r["article_count"] or 0)
                  for r in _rows(con, "select programme_id, name, acronym, level, article_count from marts.programmes "
                                      "where article_count > 0 order by article_count desc, name")}
    for r in sorted(memberships, key=lambda m: (not m["is_stated"], m["city_id"])):
        if r["programme_id"] in programmes:
            city = cities.get(r["city_id"])
            programmes[r["programme_id"]].members.append({**r, "city": city.name if city else r["city_id"]})
    for r in _rows(con, """select ap.programme_id, strftime(a.published_date, '%Y-%m') as month, count(*) as n
                          from marts.article_programmes ap join marts.articles a using (article_id)
                          where a.published_date is not null group by all order by month"""):
        if r["programme_id"] in programmes:
            programmes[r["programme_id"]].mentions_by_month.append((r["month"], r["n"]))
    articles = [SiteArticle(r["article_id"], r["title"] or r["url"], r["url"], r["source_id"], r["published_date"],
                            bool(r["is_relevant"]), _snippet(r["body_text"] or ""),
                            f"{r['title'] or ''} {r['body_text'] or ''}")
                for r in _rows(con, """select article_id, title, url, source_id, published_date, is_relevant, body_text
                                      from marts.articles order by published_date desc nulls last, title
                                      limit ?""", [MAX_ARTICLES_LISTED])]
    sources = _rows(con, "select source_id, name, kind, city, articles, relevant_articles, last_published, "
                         "last_run_at, last_success_at, healthy, health_reason from marts.sources order by source_id")
    runs = _rows(con, "select run_id, flow, started_at, status, articles_new, errors from marts.runs "
                      "order by started_at desc limit 10")
    return SiteData(today, events, list(cities.values()), list(programmes.values()), articles, sources, runs,
                    calendar_rows)


def _memberships(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per city, programme and role, the role in German; a mere mention is left out where a sentence
    states a role of the city in that programme."""
    stated = {(r["city_id"], r["programme_id"]) for r in rows if r["is_stated"]}
    return [{**r, "role": ROLE_LABELS.get(r["role"], r["role"])} for r in rows
            if r["is_stated"] or (r["city_id"], r["programme_id"]) not in stated]


def _snippet(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"


def search_index(articles: list[SiteArticle]) -> dict[str, list[int]]:
    """Word (lower case, at least MIN_WORD letters) -> positions of the articles holding it: built here, so the
    page searches without reading the bodies."""
    index: dict[str, list[int]] = defaultdict(list)
    for position, article in enumerate(articles):
        text = unicodedata.normalize("NFC", article.text)  # "ü" as one letter, as the page's query is normalised
        for word in sorted({w.lower() for w in _WORD.findall(text)}):
            index[word].append(position)
    return dict(index)


def _json_for_script(value: Any) -> str:
    """JSON to sit inside <script type="application/json">: `<`, `>` and `&` as escapes, so no scraped text can
    close the element or open another."""
    text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["german_date"] = german_date
    env.filters["script_json"] = _json_for_script
    env.filters["http_url"] = http_url
    env.filters["german_month"] = german_month
    env.filters["local_time"] = local_time
    return env


def http_url(url: str | None) -> str:
    """A scraped URL fit for href: http(s) only; anything else (javascript:, data:) becomes "#"."""
    return url if url and re.match(r"https?://", url, re.IGNORECASE) else "#"


def ics_page(event_id: str) -> str:
    """The file of an event's own calendar entry, relative to the site folder."""
    return f"termine/{re.sub(r'[^A-Za-z0-9_-]', '_', event_id)}.ics"


def city_page(city_id: str) -> str:
    """The file of a city's page, relative to the site folder."""
    return f"staedte/{re.sub(r'[^a-z0-9_-]', '_', city_id.lower())}.html"


def write_site(data: SiteData, out: Path) -> list[Path]:
    """Render every page of the site into `out` (created; its old pages replaced); returns the files written."""
    from warehouse import germany_map

    out = Path(out)
    (out / "staedte").mkdir(parents=True, exist_ok=True)
    (out / "termine").mkdir(parents=True, exist_ok=True)
    env = _environment()
    city_names = {c.city_id: c.name for c in data.cities}
    programme_names = {p.programme_id: p.name for p in data.programmes}
    common = {"generated": data.generated, "city_page": city_page, "ics_page": ics_page,
              "attribution": germany_map.attribution(), "known_cities": {c.city_id for c in data.cities},
              "known_programmes": {p.programme_id for p in data.programmes}}
    written: list[Path] = []

    def page(template: str, target: str, **context: Any) -> None:
        path = out / target
        depth = target.count("/")
        html = env.get_template(template).render(root="../" * depth, **common, **context)
        path.write_text(html, encoding="utf-8")
        written.append(path)

    upcoming = [e for e in data.events if (e.end or e.start) >= data.generated]
    past = [e for e in reversed(data.events) if (e.end or e.start) < data.generated]
    months = _months(data.events)
    page("events.html.j2", "index.html", title="Termine", upcoming=upcoming, past=past, months=months,
         city_names=city_names, programme_names=programme_names,
         cities=sorted({(e.city_id, city_names.get(e.city_id or "", e.city_name or "")) for e in data.events
                        if e.city_id}, key=lambda c: c[1]),
         programmes=sorted({(e.programme_id, programme_names.get(e.programme_id or "", e.programme_id or ""))
                            for e in data.events if e.programme_id}, key=lambda p: p[1]),
         types=sorted({e.event_type for e in data.events if e.event_type}))
    placed = []
    most = max((c.article_count for c in data.cities), default=1) or 1
    for city in data.cities:
        if city.latitude is None or city.longitude is None:
            continue
        try:
            x, y = germany_map.place(city.latitude, city.longitude)
        except ValueError:  # coordinates no map can hold: the city keeps its page, not a dot
            continue
        if germany_map.inside(x, y):
            share = (max(city.article_count, 1) / most) ** 0.5  # area grows with the count
            placed.append({"city": city, "x": round(x, 1), "y": round(y, 1),
                           "r": round(MIN_RADIUS + (MAX_RADIUS - MIN_RADIUS) * share, 1)})
    details = {item["city"].city_id: {
        "name": item["city"].name, "page": city_page(item["city"].city_id),
        "programmes": [f"{p['name']} ({p['role']})" for p in item["city"].programmes][:MAX_PANEL_ITEMS],
        "events": [f"{e.when}: {e.name}" for e in item["city"].events][:MAX_PANEL_ITEMS],
        "articles": [a["title"] or a["url"] for a in item["city"].articles[:MAX_PANEL_ITEMS]]} for item in placed}
    page("map.html.j2", "karte.html", title="Karte", states=germany_map.states(), view_box=germany_map.view_box(),
         placed=placed, details=details)
    widest = max((n for p in data.programmes for _, n in p.mentions_by_month), default=1)
    page("programmes.html.j2", "programme.html", title="Programme", programmes=data.programmes, widest=widest)
    page("cities.html.j2", "staedte.html", title="Städte", cities=data.cities)
    for city in data.cities:
        page("city.html.j2", city_page(city.city_id), title=city.name, city=city)
    index = search_index(data.articles)
    page("articles.html.j2", "artikel.html", title="Artikel", articles=data.articles,
         search={"index": index, "count": len(data.articles)})
    page("sources.html.j2", "quellen.html", title="Quellen", sources=data.sources, runs=data.runs)
    calendar = build_calendar(data.calendar_rows)
    (out / "termine.ics").write_bytes(calendar.to_ical())
    written.append(out / "termine.ics")
    for row in data.calendar_rows:
        target = out / ics_page(row.event_id)
        target.write_bytes(build_calendar([row]).to_ical())
        written.append(target)
    for asset in ("site.css", "site.js", "GERMANY_MAP_LICENSE.md"):
        shutil.copyfile(ASSETS / asset, out / asset)
        written.append(out / asset)
    return written


def _months(events: list[SiteEvent]) -> list[dict[str, Any]]:
    """A month grid (weeks of seven days, Monday first) for every month with an event."""
    by_month: dict[tuple[int, int], list[SiteEvent]] = defaultdict(list)
    for event in events:
        by_month[(event.start.year, event.start.month)].append(event)
    months = []
    for (year, month), held in sorted(by_month.items()):
        first = dt.date(year, month, 1)
        days_in = (dt.date(year + month // 12, month % 12 + 1, 1) - first).days
        on_day = Counter(e.start.day for e in held)
        cells: list[dict[str, Any] | None] = [None] * first.weekday()
        cells += [{"day": d, "events": [e for e in held if e.start.day == d], "count": on_day[d]}
                  for d in range(1, days_in + 1)]
        cells += [None] * (-len(cells) % 7)
        weeks = [cells[i:i + 7] for i in range(0, len(cells), 7)]
        months.append({"label": f"{MONTHS[month - 1]} {year}", "weeks": weeks})
    return months


def generate_site(db: Path, out: Path, today: dt.date, published: bool = True) -> tuple[Path, int]:
    """Generate the site of the warehouse `db` into `out`: from its published copy (published/<name>), as BI
    tools read it, when `published` and it exists, else from the file itself; read-only either way. Returns
    the file read and the number of pages written. Pages of cities and events no longer in the marts are
    removed once the new pages are written (a failed generation leaves the old site whole)."""
    from warehouse.db import connect
    from warehouse.publish import published_path

    source = published_path(db)
    source = source if published and source.exists() else Path(db)
    con = connect(source, read_only=True)
    try:
        data = read_site(con, today)
    finally:
        con.close()
    out = Path(out)
    written = write_site(data, out)
    kept = {path.resolve() for path in written}
    for stale in [*out.glob("staedte/*.html"), *out.glob("termine/*.ics")]:
        if stale.resolve() not in kept:
            stale.unlink()
    return source, sum(1 for path in written if path.suffix == ".html")
