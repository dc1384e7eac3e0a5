"""Tests for city, programme and event extraction on hand-written German sentences."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from scrapers import event_fields, events, places, programmes
from scrapers.records import ArticleRecord


def names(text: str) -> list[str]:
    return [m.name for m in places.find_cities(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Die Landeshauptstadt Dresden lädt gemeinsam mit der Stadt Dortmund ein.", ["Dresden", "Dortmund"]),
    ("Das Dresdner Rathaus grüßt die Münchner Gäste und eine Kieler Gruppe.", ["Dresden", "München", "Kiel"]),
    ("Ein Lob für Dortmunds Verwaltung kam aus Zwönitz, wo Zwönitz' Team tagte.", ["Dortmund", "Zwönitz"]),
    ("Das Smart-City-Team Wuppertal erklärte die neue Strategie Kiels.", ["Wuppertal", "Kiel"]),
    ("Die Liste der Teilnehmer reicht von Aalen bis Zwönitz.", ["Aalen", "Zwönitz"]),
    ("Gäste kamen von der TU Dresden und vom Verein SG Dynamo Dresden.", ["Dresden"]),
    ("Partnerstädte sind Lissabon, Göteborg und Wien.", ["Lissabon", "Göteborg", "Wien"]),
    ("Die Busse fahren auch in Castrop-Rauxel und Schwerte nicht.", ["Castrop-Rauxel", "Schwerte"]),
    ("Treffen in Frankfurt am Main und in Sankt Wendel.", ["Frankfurt am Main", "Sankt Wendel"]),
])
def test_city_forms(text, expected):
    assert names(text) == expected


def test_mention_records_surface_and_first_offset():
    text = "Bericht\nDie Dresdner Fachleute fuhren später nach Dresden zurück."
    (m,) = places.find_cities(text)
    assert (m.name, m.surface, m.offset) == ("Dresden", "Dresdner", text.index("Dresdner"))
    assert m.city_id == "2935022"


@pytest.mark.parametrize("text", [
    "Teams in Brandenburg, Sachsen und im Erzgebirge arbeiten mit der Bodenseeregion und Südwestfalen.",
    "Das Ruhrgebiet, Nordrhein-Westfalen und ganz Deutschland profitieren.",
    "Nach dem Essen ging es zurück in die Halle.",
    "Am Hof stand ein Wagen, weil der Wald zu dicht war.",
    "Die Regel tritt in Kraft, sobald alle in der Lage sind.",
    "Die Gala moderierten Christina Hammer und Peter Großmann.",
    "Das Pariser Klimaabkommen gilt weiter.",
    "Gesperrt sind die Dortmunder Straße und die Weseler Straße.",
    "Die Umleitung führt durch Hörde und Eving.",
])
def test_not_cities(text):
    assert names(text) == []


def test_everyday_words_count_after_a_place_cue():
    assert names("Die Tagung fand in Essen statt, danach ging es nach Halle (Saale).") == ["Essen", "Halle (Saale)"]
    assert names("Die Gemeinde Senden startet ein Projekt.") == ["Senden"]


def test_small_places_need_a_cue():
    assert names("Zwönitz gilt als Vorbild.") == []
    assert names("Zwönitz gilt als Vorbild; in Zwönitz wird gebaut.") == ["Zwönitz"]


def test_city_lookups():
    assert places.city_by_name("Dresden").city_id == "2935022"
    assert places.city_by_id("2935022").name == "Dresden"
    assert places.city_by_name("") is None
    assert places.city_by_id("0") is None


# ------------------------------------------------------------------------------------------- programmes
@pytest.fixture(scope="module")
def cat() -> programmes.Catalogue:
    return programmes.load_programme_catalogue()


def test_catalogue_seed_is_well_formed(cat):
    ids = [p.programme_id for p in cat.programmes]
    assert len(ids) == len(set(ids))
    assert {"mpsc", "eu_cities_mission", "intelligent_cities_challenge", "mobilities_for_eu", "neutralpath",
            "smart_city_dialog", "nsp"} <= set(ids)
    assert all(p.level in programmes.LEVELS for p in cat.programmes)
    assert cat.by_id["mpsc"].acronym == "MPSC"


def test_malformed_catalogue_names_file_and_line(tmp_path):
    bad = tmp_path / "p.csv"
    bad.write_text(",".join(programmes.CATALOGUE_COLUMNS) + "\nx,Name,,,galactic,,,,\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"p\.csv:2: level"):
        programmes.load_programme_catalogue(bad)


def ids(text: str, cat) -> list[str]:
    return [p.programme_id for p in programmes.find_programmes(text, cat)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Die Stadt ist seit Jahren Modellprojekt Smart Cities des Bundes.", ["mpsc"]),
    ("Das Team des Modellprojekts Smart City stellte Ergebnisse vor.", ["mpsc"]),
    ("Zum 8. MPSC-Kongress kommen viele Kommunen.", ["mpsc"]),
    ("Die Stadt trägt das Label der EU-Mission „100 Climate-Neutral and Smart Cities by 2030“.",
     ["eu_cities_mission"]),
    ("In der EU-Städtemission arbeiten viele Partner mit.", ["eu_cities_mission"]),
    ("Die Intelligent Cities Challenge (ICC) startet neu.", ["intelligent_cities_challenge"]),
    ("Gefördert über die EU-Projekte MOBILITIES for EU und NeutralPath.", ["mobilities_for_eu", "neutralpath"]),
    ("Ideen werden auf der Plattform Smart City Dialog geteilt.", ["smart_city_dialog"]),
])
def test_catalogue_programmes(text, expected, cat):
    assert ids(text, cat) == expected


def test_no_programme_in_plain_text(cat):
    assert ids("Die Koordinierungs- und Transferstelle (KTS) berät das Bundesministerium (BMI).", cat) == []
    assert ids("Das Leben in der Stadt ist vielfältig.", cat) == []


def test_discovered_programmes(cat):
    (p,) = programmes.find_programmes("Die Stadt erhält Geld aus dem Förderprogramm „Grüne Höfe“ des Landes.", cat)
    assert p.programme_id == "discovered:grune-hofe"
    assert p.discovered_name == "Grüne Höfe"
    (q,) = programmes.find_programmes("Beteiligt ist sie am EU-Projekt CoolCity.", cat)
    assert q.programme_id == "discovered:coolcity"


# ----------------------------------------------------------------------------------------------- events
def article(title: str, body: str, published: dt.date, teaser: str | None = None,
            details: dict[str, str] | None = None) -> ArticleRecord:
    return ArticleRecord(url="http://127.0.0.2/a", title=title, body_text=body, published_date=published,
                         teaser=teaser, details=details or {})


def events_in(art: ArticleRecord, publisher_city_id: str | None = None):
    text = art.title + "\n" + art.body_text
    return events.find_events(art, places.find_cities(text), publisher_city_id)


def city_name(e) -> str | None:
    return places.city_by_id(e.city_id).name if e.city_id else None


def test_event_with_city_after_in():
    art = article("Netzwerk trifft sich", "Die 12. Regionalkonferenz der Modellkommunen findet am 3. März 2026 "
                  "in Erfurt statt. Anmeldung bis zum 20. Februar 2026.", dt.date(2026, 1, 10))
    (e,) = events_in(art)
    assert e.start_date == dt.date(2026, 3, 3)
    assert city_name(e) == "Erfurt"
    assert e.name.startswith("12. Regionalkonferenz")


def test_event_range_time_and_year_from_publication():
    art = article("Kongress in Leipzig", "Der Kongress läuft am 7. und 8. Mai von 9 bis 17 Uhr.",
                  dt.date(2026, 2, 1))
    (e,) = events_in(art)
    assert (e.start_date, e.end_date) == (dt.date(2026, 5, 7), dt.date(2026, 5, 8))
    assert (e.start_time, e.end_time) == (dt.time(9), dt.time(17))
    assert city_name(e) == "Leipzig"


def test_online_event():
    art = article("Digitale Verwaltung", "Das Webinar am 14. April 2026 findet online statt.", dt.date(2026, 3, 1))
    (e,) = events_in(art, publisher_city_id="2935022")
    assert e.is_online and e.city_id is None


def test_event_city_falls_back_to_publisher_and_venue_is_read():
    art = article("Rückblick", "Beim Fachtag am 5. Juni 2025 im Haus der Wirtschaft diskutierten viele Gäste.",
                  dt.date(2025, 6, 20))
    (e,) = events_in(art, publisher_city_id="2935022")
    assert city_name(e) == "Dresden"
    assert e.venue == "Haus der Wirtschaft"


def test_details_block_gives_venue_and_city():
    art = article("Forum Stadtdaten", "Auf dem Forum am 2. Oktober 2025 geht es um offene Daten.",
                  dt.date(2025, 9, 1), details={"Veranstaltungsort": "Stadthalle, 06108 Halle (Saale)",
                                                "Uhrzeit": "10:00 bis 15:00 Uhr"})
    (e,) = events_in(art)
    assert city_name(e) == "Halle (Saale)"
    assert e.venue.startswith("Stadthalle")
    assert e.start_time == dt.time(10)


def test_no_events_from_publication_dates_deadlines_or_history():
    art = article("Neue Radwege", "12.03.2026 — Die Stadt baut Radwege. Anträge sind bis zum 30. April 2026 "
                  "möglich. Die erste Konferenz dazu gab es am 3. Mai 1999 in Bonn.", dt.date(2026, 3, 12))
    assert events_in(art) == []


def test_one_event_per_date_and_city():
    art = article("Tagung in Jena", "Die Tagung am 9. September 2025 war voll. Am 9. September 2025 "
                  "sprachen auf der Tagung viele Gäste.", dt.date(2025, 9, 12))
    assert len(events_in(art)) == 1


# ------------------------------------------------------------------- hand-written held-out-like fixtures
# tests/fixtures/entities/*.json are short German news articles written for these tests, in the format of
# the evaluation set (../shared/eval/dev). They are scored the way run_eval.py scores the marts: cities and
# programmes per article, events over the whole set as (start date, city or "online") pairs.
FIXTURES = sorted((Path(__file__).parent / "fixtures" / "entities").glob("*.json"))


def _norm(text: str | None) -> str:
    text = (text or "").casefold().replace("ß", "ss")
    text = re.sub(r"\(.*?\)", " ", text)
    text = re.sub(r"[-–—_/„“\"'«»:,.]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _same_city(a: str, b: str) -> bool:
    a, b = _norm(a), _norm(b)
    return bool(a) and (a == b or a.startswith(b + " ") or b.startswith(a + " "))


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _fixture_record(item: dict) -> ArticleRecord:
    """The record the extractor makes of a fixture page: the lead and the details lines belong to the body."""
    details = {k: str(v) for k, v in (item.get("event_details") or {}).items() if v}
    body = "\n".join([item["teaser"], *item["paragraphs"], *(f"{k}: {v}" for k, v in details.items())])
    return ArticleRecord(url=f"http://127.0.0.2/news/{item['id']}/", title=item["title"], body_text=body,
                         published_date=dt.date.fromisoformat(item["published"]), teaser=item["teaser"],
                         details=details)


def score_fixtures(paths: list[Path]) -> dict[str, tuple[float, float, float]]:
    """Cities, programmes and events (P, R, F1) over fixture files, scored like ../shared/eval/run_eval.py."""
    cat = programmes.load_programme_catalogue()
    c = [0, 0, 0]
    p = [0, 0, 0]
    gold_events: set[tuple[str, str]] = set()
    optional_events: set[tuple[str, str]] = set()
    found_events: set[tuple[str, str]] = set()

    def ev_key(date, city: str | None) -> tuple[str, str]:
        return str(date)[:10], _norm(city) if city and _norm(city) != "online" else "online"

    for path in paths:
        item = json.loads(path.read_text(encoding="utf-8"))
        gold, record = item["gold"], _fixture_record(item)
        text = f"{record.title}\n{record.body_text}"
        cities = places.find_cities(text)
        req, opt = gold["cities_required"], gold["cities_optional"]
        pred = {m.name for m in cities}
        c[0] += sum(1 for n in pred if any(_same_city(n, r) for r in req))
        c[1] += sum(1 for n in pred if not any(_same_city(n, r) for r in req + opt))
        c[2] += sum(1 for r in req if not any(_same_city(n, r) for n in pred))

        preds = []
        for m in programmes.find_programmes(text, cat):
            prog = cat.by_id.get(m.programme_id)
            spellings = [prog.name, prog.acronym, *prog.aliases] if prog else [m.discovered_name]
            preds.append({_norm(x) for x in spellings if x})
        req_p = [{_norm(a) for a in al} for al in gold["programmes_required"]]
        opt_p = [{_norm(a) for a in al} for al in gold["programmes_optional"]]
        p[0] += sum(1 for names in preds if any(names & r for r in req_p))
        p[1] += sum(1 for names in preds if not any(names & r for r in req_p + opt_p))
        p[2] += sum(1 for r in req_p if not any(names & r for names in preds))

        gold_events |= {ev_key(e["start_date"], e["city"]) for e in gold["events_required"]}
        optional_events |= {ev_key(e["start_date"], e["city"]) for e in gold["events_optional"]}
        for e in events.find_events(record, cities):
            city = places.city_by_id(e.city_id) if e.city_id else None
            found_events.add(ev_key(e.start_date, city.name if city and not e.is_online else None))

    def hit(k: tuple[str, str], pool: set[tuple[str, str]]) -> bool:
        return any(k[0] == q[0] and (k[1] == q[1] or ("online" not in (k[1], q[1]) and _same_city(k[1], q[1])))
                   for q in pool)

    tp = sum(1 for k in found_events if hit(k, gold_events))
    fp = sum(1 for k in found_events if not hit(k, gold_events) and not hit(k, optional_events))
    fn = sum(1 for k in gold_events if not hit(k, found_events))
    return {"cities": _prf(*c), "programmes": _prf(*p), "events": _prf(tp, fp, fn)}


def test_fixture_set_is_large_and_well_formed():
    assert len(FIXTURES) >= 25
    for path in FIXTURES:
        item = json.loads(path.read_text(encoding="utf-8"))
        assert {"title", "published", "teaser", "paragraphs", "gold"} <= set(item), path.name
        assert {"cities_required", "cities_optional", "not_cities", "programmes_required",
                "events_required"} <= set(item["gold"]), path.name


@pytest.fixture(scope="module")
def fixture_scores() -> dict[str, tuple[float, float, float]]:
    return score_fixtures(FIXTURES)


# Floors a little under what the extraction reaches, so that a regression fails and noise does not.
@pytest.mark.parametrize(("kind", "min_p", "min_f"), [
    ("cities", 0.95, 0.95),
    ("programmes", 0.95, 0.95),
    ("events", 0.90, 0.90),
])
def test_fixture_scores_stay_above_floors(fixture_scores, kind, min_p, min_f):
    p, r, f = fixture_scores[kind]
    assert p >= min_p and f >= min_f, f"{kind}: P {p:.2f} R {r:.2f} F1 {f:.2f}"


# ------------------------------------------------------------------- cities: homonyms, noise, lists
@pytest.mark.parametrize(("text", "expected"), [
    ("Frankfurt (Oder) und Słubice teilen sich ein Datenportal; Słubice liegt in Polen.",
     ["Frankfurt (Oder)", "Słubice"]),
    ("Die Stadt Brandenburg an der Havel erhält Geld vom Land Brandenburg.", ["Brandenburg an der Havel"]),
    ("Auch Essen und Oberhausen prüfen solche Anlagen.", ["Essen", "Oberhausen"]),
    ("Auch Schaffhausen hat Interesse bekundet.", ["Schaffhausen"]),
    ("Neustadt an der Weinstraße und Neustadt bei Coburg nutzen dasselbe System.",
     ["Neustadt an der Weinstraße", "Neustadt bei Coburg"]),
])
def test_city_homonyms_and_lists(text, expected):
    assert names(text) == expected


def test_foreign_city_beats_a_german_hamlet_of_the_same_name():
    (m,) = places.find_cities("Auch Schaffhausen hat Interesse bekundet.")
    assert places.city_by_id(m.city_id).country_code == "CH"


@pytest.mark.parametrize("text", [
    "Wer Essen auf Rädern liefert, nutzt nach dem Essen die alten Tonnen.",
    "Das Fenster zum Hof öffnet sich, im Bad wird das Wasser vorgewärmt, die Halle ist hell.",
    "Moderiert wurde die Runde von Svenja Hameln aus dem Netzwerk.",
    "Echt gute Ideen hatten die Helden des Alltags.",
])
def test_everyday_words_and_surnames_are_not_cities(text):
    assert names(text) == []


def test_find_cities_on_a_long_text_finds_each_city_once():
    text = "Die Stadt Ulm und Neu-Ulm teilen Daten. " * 2000 + "Zum Schluss: Lemgo."
    assert names(text) == ["Ulm", "Neu-Ulm", "Lemgo"]


# ------------------------------------------------------------------- programmes: spellings
@pytest.mark.parametrize(("text", "expected"), [
    ("Der Landkreis ist eine der Smarte.Land.Regionen des Bundes.", ["smarte_land_regionen"]),
    ("Gefördert über das KfW-Programm 432 „Energetische Stadtsanierung“.", ["kfw_432"]),
    ("Geld kommt aus dem Bundesprogramm „Anpassung urbaner und ländlicher Räume an den Klimawandel“.",
     ["klimaanpassung_staedte"]),
    ("Teil der REGIONALE 2025 in Südwestfalen.", ["regionale_nrw"]),
    ("Die Plattform NetZeroCities berät die Städte der Mission.", ["eu_cities_mission"]),
])
def test_more_catalogue_programmes(text, expected, cat):
    assert ids(text, cat) == expected


def test_generic_phrases_are_not_programmes(cat):
    assert ids("Wir wollen lebendige Zentren und eine regionale Datenplattform.", cat) == []


def test_anchored_matching_equals_the_full_alternation(cat):
    texts = [json.loads(p.read_text(encoding="utf-8")) for p in FIXTURES]
    for item in texts:
        text = "\n".join([item["title"], item["teaser"], *item["paragraphs"]])
        slow = sorted((pid, m.start(), m.end()) for pid, rx in cat.patterns for m in rx.finditer(text))
        assert sorted(programmes._catalogue_matches(text, cat)) == slow


# ------------------------------------------------------------------- events: years, deadlines, fields
def test_date_without_year_in_a_january_report_is_last_december():
    art = article("Rückblick", "Am 12. Dezember diskutierten 300 Gäste im Webinar über Beteiligung.",
                  dt.date(2026, 1, 8))
    (e,) = events_in(art)
    assert e.start_date == dt.date(2025, 12, 12) and e.is_online


def test_date_without_year_in_a_december_announcement_is_next_january():
    art = article("Neujahrsempfang", "Der Neujahrsempfang findet am 14. Januar im Rathaus in Oldenburg statt.",
                  dt.date(2025, 12, 18))
    (e,) = events_in(art)
    assert e.start_date == dt.date(2026, 1, 14)
    assert city_name(e) == "Oldenburg"


def test_application_windows_and_deadlines_are_not_events():
    art = article("Förderaufruf", "Anträge für die Konferenzförderung können vom 1. Januar bis zum 31. März 2026 "
                  "eingereicht werden. Anmeldeschluss für die Tagung ist der 15. Februar 2026.", dt.date(2025, 12, 15))
    assert events_in(art) == []


def test_event_fields_from_text():
    art = article("Verkehrsdaten ohne Grenzen",
                  "Die Abschlussveranstaltung des Interreg-Projekts findet am Freitag, 28. November 2025, "
                  "von 9:30 Uhr bis 17:15 Uhr im Konzil statt (Hafenstraße 2, 78462 Konstanz). Organisiert wird sie "
                  "von der Stadt Konstanz gemeinsam mit dem Kanton Thurgau.", dt.date(2025, 11, 5))
    (e,) = events_in(art)
    assert (e.start_time, e.end_time) == (dt.time(9, 30), dt.time(17, 15))
    assert city_name(e) == "Konstanz"
    assert e.address == "Hafenstraße 2, 78462 Konstanz"
    assert e.organiser == "Stadt Konstanz"
    assert e.programme_id == "interreg"
    assert e.event_type == "other"


def test_event_fields_from_details_block():
    details = {"Datum": "24. und 25. Juni 2026", "Uhrzeit": "9:30 bis 17:00 Uhr",
               "Ort": "bcc, Alexanderstraße 11, 10178 Berlin", "Veranstalter": "Bundesministerium für Wohnen"}
    art = article("Jetzt anmelden: 8. Kongress der Modellprojekte Smart Cities",
                  "Der Kongress bringt Kommunen zusammen.", dt.date(2026, 3, 2), details=details)
    (e,) = events_in(art)
    assert (e.start_date, e.end_date) == (dt.date(2026, 6, 24), dt.date(2026, 6, 25))
    assert city_name(e) == "Berlin"
    assert e.address == "Alexanderstraße 11, 10178 Berlin"
    assert e.organiser == "Bundesministerium für Wohnen"
    assert (e.event_type, e.programme_id) == ("kongress", "mpsc")
    assert e.name == "8. Kongress der Modellprojekte Smart Cities"


@pytest.mark.parametrize(("sentence", "name", "kind"), [
    ("Die 24. Regionalkonferenz der Modellprojekte Smart Cities findet am 8. Oktober 2025 in Bamberg statt.",
     "24. Regionalkonferenz der Modellprojekte Smart Cities", "konferenz"),
    ("Auf der Smart Country Convention am 30. September 2025 in Berlin zeigte Jena sein Netz.",
     "Smart Country Convention", "convention"),
    ("Am 18. November 2025 findet in Potsdam das Forum Digitale Daseinsvorsorge statt.",
     "Forum Digitale Daseinsvorsorge", "forum"),
    ("Der Stadtdaten-Hackathon läuft am 18. November 2025 in Lemgo.", "Stadtdaten-Hackathon", "hackathon"),
    ("Beim Bürgerdialog am 14. Oktober 2025 in Gütersloh ging es um Hitze.", "Bürgerdialog in Gütersloh",
     "buergerdialog"),
    ("Die Auftaktveranstaltung findet am 3. Juli 2025 in Pasewalk statt.", "Auftaktveranstaltung in Pasewalk",
     "auftakt"),
])
def test_event_names_and_types(sentence, name, kind):
    (e,) = events_in(article("Nachricht", sentence, dt.date(2025, 9, 1)))
    assert (e.name, e.event_type) == (name, kind)


def test_event_words_skip_verbs_and_weekdays():
    art = article("Messwerte", "Am Dienstag, 14. Oktober 2025, messen Sensoren den Wert; die Teams treffen sich "
                  "am 15. Oktober 2025 im Landtag.", dt.date(2025, 10, 1))
    assert events_in(art) == []


def test_address_and_organiser_helpers():
    assert (event_fields.find_address("Kurhaus, Am Kurpark 2, 36251 Bad Hersfeld. Danach")
            == "Am Kurpark 2, 36251 Bad Hersfeld")
    assert event_fields.find_address("Hansering 15, 06108 Halle (Saale)") == "Hansering 15, 06108 Halle (Saale)"
    assert event_fields.find_address("Es kamen 12000 Gäste.") is None
    assert event_fields.find_organiser("Die Alte Hansestadt Lemgo lädt zum Hackathon ein.") == "Alte Hansestadt Lemgo"
    assert event_fields.find_organiser(["Gastgeberin ist die Stadt Bamberg, die seit 2020 dabei ist.",
                             "Veranstalter ist die Transferstelle."]) == "Transferstelle"
    assert event_fields.event_type("Online-Seminar") == "webinar"
    assert event_fields.event_type("Tag der offenen Tür") == "other"


def test_a_weekday_in_the_title_announces_no_event():
    art = article("Warnstreik: Am Montag fahren keine Busse",
                  "Wer am Montag, 2. Februar, in Dortmund Bus fahren will, muss laufen.", dt.date(2026, 1, 30))
    assert events_in(art) == []


def test_every_event_type_python_emits_is_in_the_dbt_seed():
    """One vocabulary: the extractor's kinds are the seed's rows, so the marts never turn one into 'other'."""
    import csv

    with event_fields.EVENT_TYPES_FILE.open(encoding="utf-8", newline="") as handle:
        seed = {row["event_type"]: row for row in csv.DictReader(handle)}
    assert {kind for kind, _ in event_fields.EVENT_TYPES} | {"other"} == set(seed)
    assert all(row["reason"].strip() for row in seed.values())
    assert event_fields.event_type("Auftakt der Challenge") == "auftakt"
    assert event_fields.event_type("Nordische Verwaltungsconvention") == "convention"


@pytest.mark.parametrize(("text", "cities"), [
    ("Das Fest am Paris-Lodron-Kai in Salzburg beginnt um zehn.", {"Salzburg"}),
    ("Die Anlaufstelle zieht an den Martin-Luther-Platz in Erlangen.", {"Erlangen"}),
    ("Die Werkstatt liegt an der Gustav-Adolf-Straße, mitten in Zwickau.", {"Zwickau"}),
    ("Baustelle auf der Frankfurt-Kassel-Chaussee bei Göttingen", {"Göttingen"}),
])
def test_a_name_inside_a_hyphenated_street_name_is_no_place(text, cities):
    """Issue 16: a street named after a person or a place names no place (the third case guards a name that is
    no place anyway)."""
    assert {c.surface for c in places.find_cities(text)} == cities


def test_a_bare_event_word_takes_the_full_name_another_mention_gives():
    """Issue 16: "des Forums" at the date, "Zukunftsforum" in the title, the full name with its motto in the
    teaser: the event is named in full."""
    record = ArticleRecord(
        url="https://www.example.org/a", title="Zukunftsforum: Kassel plant die Wärmewende",
        teaser="Beim Zukunftsforum „Wärme, Daten, Quartiere“ kamen Fachleute aus Verwaltung und Stadtwerken zusammen.",
        body_text="Die erste Ausgabe des Forums am 3. März 2025 in Kassel galt der kommunalen Wärmeplanung.",
        published_date=dt.date(2025, 3, 10))
    found = events.find_events(record, places.find_cities(f"{record.title}\n{record.body_text}"), None)
    assert [e.name for e in found] == ["Zukunftsforum „Wärme, Daten, Quartiere“"]


@pytest.mark.parametrize(("place", "venue"), [("Ort: Kassel", None), ("Ort: 34117 Kassel", None),
                                              ("Ort: Stadthalle Kassel", "Stadthalle Kassel")])
def test_a_city_alone_is_no_venue(place, venue):
    """Issue 16: a details block naming only the city says where the event is, not in which venue."""
    key, value = place.split(": ", 1)
    record = ArticleRecord(url="https://www.example.org/b", title="Fachtag Wärmeplanung",
                           body_text="Der Fachtag Wärmeplanung findet am 3. März 2025 statt.",
                           published_date=dt.date(2025, 2, 10), details={key: value, "Datum": "3. März 2025"})
    found = events.find_events(record, places.find_cities(f"{record.title}\n{record.body_text}"), None)
    assert [(e.venue, e.city_id) for e in found] == [(venue, places.city_by_name("Kassel").city_id)]


def _events_of(title: str, body: str, published: dt.date, details: dict[str, str] | None = None, teaser: str = ""):
    record = ArticleRecord(url="https://www.example.org/a", title=title, teaser=teaser or None, body_text=body,
                           published_date=published, details=details or {})
    return events.find_events(record, places.find_cities(f"{title}\n{body}"), None)


def test_a_generic_event_word_takes_the_kind_the_article_names_with_its_city_and_programme():
    """Issue 16: "die Veranstaltung am …" while the article speaks of Fachkonferenzen: a calendar title
    that says which gathering it was, not "Veranstaltung"."""
    (e,) = _events_of("Wärmewende im Quartier", "Die Veranstaltung am 7. Mai 2025 in Lüneburg war ausgebucht. "
                      "Die Fachkonferenzen der Nationalen Klimaschutzinitiative wandern jedes Jahr in eine andere "
                      "Region.", dt.date(2025, 5, 9))
    assert e.name == "Nationale Klimaschutzinitiative: Fachkonferenz in Lüneburg"


def test_an_ordinal_and_a_title_given_elsewhere_complete_the_name():
    body = ("Lange hatte das Team die Fachtagung vorbereitet, die den Titel „Daten teilen, Wissen mehren“ trug. "
            "Am 3. April 2025 kamen rund 80 Gäste nach Greifswald. Es war die 4. Fachtagung dieser Art.")
    (e,) = _events_of("Greifswald lud zur Fachtagung", body, dt.date(2025, 4, 8))
    assert e.name == "4. Fachtagung „Daten teilen, Wissen mehren“"


def test_the_city_the_text_gives_right_after_the_name_belongs_to_it():
    (e,) = _events_of("Termine", "Am 2. Juni 2025 folgt das Netzwerktreffen der Klimaschutzmanager in Celle.",
                      dt.date(2025, 5, 2))
    assert e.name == "Netzwerktreffen der Klimaschutzmanager in Celle"


def test_a_fair_ground_is_the_venue_not_the_name():
    (e,) = _events_of("Termine", "Das Smart City Forum 2025 findet am 9. Oktober 2025 auf der Messe Karlsruhe statt.",
                      dt.date(2025, 8, 1))
    assert e.name == "Smart City Forum 2025"
    assert not event_fields.event_words("Im Kongresszentrum und am Veranstaltungsort gab es Kaffee.")


def test_an_event_page_is_named_by_its_title_without_a_lead_in():
    details = {"Datum": "12. November 2025", "Ort": "Rathaus, Markt 1, 18055 Rostock"}
    (e,) = _events_of("Jetzt anmelden: Fachtag Digitale Bürgerdienste", "Der Fachtag richtet sich an Verwaltungen.",
                      dt.date(2025, 10, 1), details)
    assert e.name == "Fachtag Digitale Bürgerdienste"
    (e,) = _events_of("Webinar: Offene Daten – vom Portal zur Anwendung", "Anmeldung im Portal.",
                      dt.date(2025, 10, 1), {"Datum": "20. November 2025"})
    assert e.name == "Webinar: Offene Daten – vom Portal zur Anwendung"


def test_two_gatherings_on_one_day_in_one_city_stay_two():
    body = ("Am 14. Oktober 2025 beginnt in Jena der Workshop Offene Verwaltungsdaten. "
            "Am Abend des 14. Oktober 2025 folgt in Jena eine Podiumsdiskussion zur Wärmeplanung. "
            "Der Workshop am 14. Oktober 2025 ist ausgebucht.")
    found = _events_of("Digitaltage in Jena", body, dt.date(2025, 10, 1))
    assert sorted(e.event_type for e in found) == ["podiumsdiskussion", "workshop"]
    assert {e.start_date for e in found} == {dt.date(2025, 10, 14)}


@pytest.mark.parametrize(("text", "cities"), [
    # a plural noun for municipalities opens a list: small towns and everyday words in it are places
    ("Beteiligt sind die Gemeinden Hinte, Wiesmoor und Hesel.", {"Hinte", "Wiesmoor", "Hesel"}),
    ("Mit dabei sind die Kommunen Wissen, Hamm (Sieg) und Birken-Honigsessen.", {"Wissen"}),
    # two German towns joined as a list support each other
    ("Die Daten sollen auch Bad Reichenhall und Tittmoning zur Verfügung stehen.", {"Bad Reichenhall", "Tittmoning"}),
    # an everyday noun after an article is no town, nor a hall with a number
    ("Weil die Gräben leer waren, fuhr niemand hinaus. Das Essen war gut.", set()),
    ("Die Messe belegt in Augsburg die Halle 5.", {"Augsburg"}),
    # the genitive of a state, a district named after its town
    ("Fünf Städte im Nordwesten Brandenburgs erhalten Geld.", set()),
    ("Die Stadt im Nürnberger Land übernimmt das System.", set()),
    # a town written with its region after a slash in GeoNames
    ("Reichenbach im Vogtland und Zwickau öffnen ihre Bahnhöfe.", {"Reichenbach/Vogtland", "Zwickau"}),
])
def test_cities_by_context(text, cities):
    found = {c.name for c in places.find_cities(text)}
    assert cities <= found
    assert not found - cities - {"Hamm (Sieg)", "Birken-Honigsessen"}


def test_a_city_in_the_venue_name_is_the_events_city_and_origins_are_not():
    (e,) = _events_of("Parkplätze im Wald", "Beteiligt sind die Städte Regen und Zwiesel. Ein Infoabend findet am "
                      "12. November 2025 um 19 Uhr im Rathaussaal Zwiesel statt.", dt.date(2025, 10, 1))
    assert (places.city_by_id(e.city_id).name, e.venue) == ("Zwiesel", "Rathaussaal Zwiesel")
    (e,) = _events_of("Hackathon in Bremen", "Teams aus Bremen, Delmenhorst und Achim treffen sich am 14. Februar "
                      "2025 beim Wärmekataster-Hackathon.", dt.date(2025, 2, 1))
    assert places.city_by_id(e.city_id).name == "Bremen"


def test_a_venue_stated_in_the_next_sentence_and_a_details_venue_without_its_address():
    (e,) = _events_of("Regionalkonferenz", "Die 9. Regionalkonferenz beginnt am 2. Dezember 2025 in Kiel. "
                      "Tagungsort ist das Haus der Begegnung am Hafen.", dt.date(2025, 11, 1))
    assert e.venue == "Haus der Begegnung"
    details = {"Datum": "16. Oktober 2025", "Ort": "Kulturfabrik am Fluss, Gerberstraße 3, 31137 Hildesheim"}
    (e,) = _events_of("5. Smart-City-Forum", "Anmeldung online.", dt.date(2025, 9, 1), details)
    assert (e.venue, e.address) == ("Kulturfabrik am Fluss", "Gerberstraße 3, 31137 Hildesheim")


def test_a_second_date_after_endet_is_the_end_of_the_event_not_another():
    (e,) = _events_of("Fachkonferenz in Jena", "Die Fachkonferenz Offene Daten beginnt am 19. März 2025 um 13 Uhr "
                      "und endet am 20. März gegen 15:30 Uhr.", dt.date(2025, 2, 1))
    assert (e.start_date, e.end_date) == (dt.date(2025, 3, 19), dt.date(2025, 3, 20))
    assert [w.group(0) for w in event_fields.event_words("Am Infostand, dann zum Weihnachtsmarkt")] == [
        "Infostand", "Weihnachtsmarkt"]


def test_times_the_text_gives_with_zwischen_endet_or_in_the_next_sentence():
    from scrapers.dates import find_times

    assert [(t.start_time, t.end_time) for t in find_times("zwischen 10 und 13 Uhr am Stand")] == [
        (dt.time(10), dt.time(13))]
    assert [(t.start_time, t.end_time) for t in find_times("beginnt um 9:30 Uhr und endet gegen 16 Uhr")] == [
        (dt.time(9, 30), dt.time(16))]
    (e,) = _events_of("Fachtag in Bremen", "Am 10. Februar 2025 lädt die Stadt zum Fachtag „Wärme konkret“. "
                      "Er beginnt um 9 Uhr im Haus der Wissenschaft.", dt.date(2025, 1, 20))
    assert (e.start_time, e.venue) == (dt.time(9), "Haus der Wissenschaft")


def test_a_headline_is_not_a_name_but_a_named_head_before_its_colon_is():
    (e,) = _events_of("Regionalkonferenz in Jena setzt auf Kooperation",
                      "Die 12. Regionalkonferenz der Modellprojekte Smart Cities führte am 4. Mai 2025 nach Jena.",
                      dt.date(2025, 5, 6), {"Datum": "4. Mai 2025", "Ort": "Volkshaus Jena"})
    assert e.name == "12. Regionalkonferenz der Modellprojekte Smart Cities"
    (e,) = _events_of("Digital Country Convention: Kommunen zeigen ihre Lösungen",
                      "Vom 15. bis 17. Oktober 2024 trifft sich die Verwaltungsdigitalisierung wieder in Berlin.",
                      dt.date(2024, 9, 1))
    assert e.name == "Digital Country Convention"


def test_event_words_tried_only_around_stems_find_what_the_whole_pattern_finds():
    texts = [
        "Fest-Konferenz und Tag der offenen Tür im Rathaus, danach ein Kick-off-Workshop.",
        "Die Smart-City-Konferenz am Montag; am Samstagvormittag der Netzwerktag 2025.",
        "Konferenzabend-Fest, 9Tagung, _Messe, Laboabend, Weihnachtsmarkt-Führung(s) und Vortragen ohne Vortrag.",
        "Das Zukunftsforum-Festival beginnt mit einem Empfang; die Feiern enden mit einer Feier im Festsaal.",
        "", "Keine Veranstaltung", "KONFERENZ konferenz Konferenz-Konferenz",
        "İİİİİ Fest am Abend in İzmir, danach der Kongress",  # "İ" lower-cases to two characters
    ]
    for text in texts:
        for start in range(0, len(text), 7):  # cut anywhere: a stem at the edge of the text
            piece = text[start:]
            assert [m.span() for m in event_fields._event_word_matches(piece)] == \
                [m.span() for m in event_fields._EVENT_WORDS.finditer(piece)], piece
