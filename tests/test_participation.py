"""A city's part in a programme is the role a sentence states about that city, not about its neighbours:
scrapers.programmes.find_participations on German texts of our own, and marts.city_programmes built from it."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from scrapers import places, programmes, vocabulary
from scrapers.config import Source
from scrapers.process import process_page
from scrapers.records import FetchedPage, Participation
from warehouse import db as warehouse_db
from warehouse import load
from warehouse.db import connect
from warehouse.migrations import unversioned
from warehouse.transform import run_dbt

ICC, MISSION, MPSC, MOBILITIES = "intelligent_cities_challenge", "eu_cities_mission", "mpsc", "mobilities_for_eu"


@pytest.fixture(scope="module")
def cat() -> programmes.Catalogue:
    return programmes.load_programme_catalogue()


def roles(text: str, cat: programmes.Catalogue) -> dict[tuple[str, str], str]:
    """{(city name, programme id): role} of every participation in `text`."""
    cities = places.find_cities(text)
    names = {c.city_id: c.name for c in cities}
    found = programmes.find_participations(text, cities, programmes.find_programmes(text, cat), cat)
    return {(names[p.city_id], p.programme_id): p.role for p in found}


def participations(text: str, cat: programmes.Catalogue) -> dict[tuple[str, str], Participation]:
    cities = places.find_cities(text)
    names = {c.city_id: c.name for c in cities}
    found = programmes.find_participations(text, cities, programmes.find_programmes(text, cat), cat)
    return {(names[p.city_id], p.programme_id): p for p in found}


def test_only_the_city_said_to_hold_the_label_holds_it(cat):
    text = ("Neun Städte hatten sich um das Missionslabel der EU-Städtemission beworben, unter ihnen Gera, Jena "
            "und Cottbus. Als einzige Stadt hat Jena das Mission Label erhalten.")
    assert roles(text, cat) == {("Gera", MISSION): "mentioned", ("Jena", MISSION): "label",
                                ("Cottbus", MISSION): "mentioned"}


def test_the_mentor_city_is_not_the_city_hosting_the_kick_off(cat):
    text = ("Der Auftakt der Intelligent Cities Challenge fand in Bamberg statt. Wolfsburg, Mentorstadt der "
            "Intelligent Cities Challenge, berichtete dort von seinen Erfahrungen.")
    assert roles(text, cat) == {("Bamberg", ICC): "mentioned", ("Wolfsburg", ICC): "mentor_city"}
    # In one sentence: the role word governs the city after the copula, not the place before it.
    text = "Die Auftaktveranstaltung der Intelligent Cities Challenge fand in Bamberg statt, Mentorstadt ist Wolfsburg."
    assert roles(text, cat) == {("Bamberg", ICC): "mentioned", ("Wolfsburg", ICC): "mentor_city"}


def test_a_city_named_only_as_the_place_of_an_event_is_mentioned(cat):
    text = "Die Mentorstädte der Intelligent Cities Challenge trafen sich im Oktober in Bamberg."
    found = participations(text, cat)
    assert {k: p.role for k, p in found.items()} == {("Bamberg", ICC): "mentioned"}
    assert found[("Bamberg", ICC)].evidence == text


def test_das_modellprojekt_town_is_a_model_project_of_the_programme_the_article_names(cat):
    text = ("Das Modellprojekt Lemgo stellte seine Datenplattform vor. Die Stadt gehört seit 2020 zum "
            "Bundesprogramm Modellprojekte Smart Cities.")
    found = participations(text, cat)
    assert {k: p.role for k, p in found.items()} == {("Lemgo", MPSC): "modellprojekt"}
    assert found[("Lemgo", MPSC)].evidence == "Das Modellprojekt Lemgo stellte seine Datenplattform vor."


def test_den_modellprojekten_a_und_b_gives_each_of_them_the_role(cat):
    text = ("Auf der Konferenz der Modellprojekte Smart Cities sprachen Fachleute aus den Modellprojekten Gera und "
            "Regensburg über offene Daten.")
    assert roles(text, cat) == {("Gera", MPSC): "modellprojekt", ("Regensburg", MPSC): "modellprojekt"}


def test_a_city_said_to_be_one_of_the_model_projects(cat):
    assert roles("Die Stadt Regensburg ist eines der 73 Modellprojekte Smart Cities.", cat) == {
        ("Regensburg", MPSC): "modellprojekt"}
    # The phrase names the programme itself: no other mention is needed.
    assert roles("Das Modellprojekt Smart City Lemgo zeigt seine neue App.", cat) == {
        ("Lemgo", MPSC): "modellprojekt"}


def test_a_bare_modellprojekt_in_an_article_about_another_programme_links_to_nothing(cat):
    text = ("Das Modellprojekt Lemgo testet autonome Busse. Die Stadt berichtete darüber bei der Intelligent "
            "Cities Challenge.")
    assert roles(text, cat) == {("Lemgo", ICC): "mentioned"}


def test_partner_cities_of_an_eu_project_in_a_list(cat):
    assert roles("Am EU-Projekt MOBILITIES for EU beteiligen sich als Partnerstädte Gera, Cottbus und Jena.",
                 cat) == {("Gera", MOBILITIES): "partner", ("Cottbus", MOBILITIES): "partner",
                          ("Jena", MOBILITIES): "partner"}
    assert roles("Zu den Partnern von MOBILITIES for EU gehören Bamberg und Wolfsburg.", cat) == {
        ("Bamberg", MOBILITIES): "partner", ("Wolfsburg", MOBILITIES): "partner"}


def test_of_several_cities_in_a_sentence_only_the_one_the_role_word_governs_holds_it(cat):
    assert roles("Neben Gera ist auch Jena Partner im EU-Projekt MOBILITIES for EU.", cat) == {
        ("Gera", MOBILITIES): "mentioned", ("Jena", MOBILITIES): "partner"}
    assert roles("Gera ist Mentorstadt und Bamberg ist Partner der Intelligent Cities Challenge.", cat) == {
        ("Gera", ICC): "mentor_city", ("Bamberg", ICC): "partner"}


def test_a_relative_clause_about_the_city_states_its_role(cat):
    text = "Gastgeber ist Jena, das im vergangenen Jahr das Mission Label der EU-Städtemission erhalten hat."
    assert roles(text, cat) == {("Jena", MISSION): "label"}


def test_a_negated_role_and_a_second_city_with_its_own_article_get_none(cat):
    text = ("Gastgeberin ist die Stadt Bamberg, die selbst kein Modellprojekt ist. Das Modellprojekt Lemgo und die "
            "Stadt Gera haben eine Lernpartnerschaft vereinbart. Beide berichten den Modellprojekten Smart Cities.")
    assert roles(text, cat) == {("Bamberg", MPSC): "mentioned", ("Lemgo", MPSC): "modellprojekt",
                                ("Gera", MPSC): "mentioned"}


def test_a_verb_of_holding_ties_a_label_but_no_other_role(cat):
    assert roles("Seit dem Frühjahr führt Gera das Missionslabel der EU-Städtemission.", cat) == {
        ("Gera", MISSION): "label"}
    assert roles("Wolfsburg hat die Mentorstädte der Intelligent Cities Challenge zu Gast.", cat) == {
        ("Wolfsburg", ICC): "mentioned"}


def test_no_programme_in_the_article_gives_nothing(cat):
    assert roles("Gera ist Partnerstadt von Cottbus. Beide Städte feiern das Jubiläum mit einem Fest.", cat) == {}
    assert roles("Das Modellprojekt Lemgo testet autonome Busse.", cat) == {}


def test_mentioned_has_the_first_sentence_naming_both_or_none(cat):
    text = ("Cottbus stellt seinen Haushalt vor. Die Intelligent Cities Challenge geht in die zweite Runde. "
            "Bamberg und Cottbus verfolgen die Intelligent Cities Challenge aufmerksam.")
    found = participations(text, cat)
    assert found[("Cottbus", ICC)].evidence == (
        "Bamberg und Cottbus verfolgen die Intelligent Cities Challenge aufmerksam.")
    text = "Cottbus stellt seinen Haushalt vor. Die Intelligent Cities Challenge geht in die zweite Runde."
    assert participations(text, cat)[("Cottbus", ICC)].evidence is None


def test_evidence_is_the_sentence_cut_to_500_characters_around_the_role(cat):
    filler = " ".join(["und viele weitere Vorhaben"] * 40)
    text = f"Gera ist Mentorstadt der Intelligent Cities Challenge {filler}."
    evidence = participations(text, cat)[("Gera", ICC)].evidence
    assert len(evidence) <= 500 and evidence.startswith("Gera ist Mentorstadt")


def test_a_sentence_dense_with_role_words_builds_each_evidence_once(cat, monkeypatch):
    built = []
    evidence = programmes._evidence
    monkeypatch.setattr(programmes, "_evidence", lambda *args: built.append(args) or evidence(*args))
    text = "Gera ist Partner der Intelligent Cities Challenge, " * 3000 + "und Jena ist Mentorstadt."
    found = participations(text, cat)
    assert {k: p.role for k, p in found.items()} == {("Gera", ICC): "partner", ("Jena", ICC): "mentor_city"}
    assert len(built) == len(found) and all(len(p.evidence) <= 500 for p in found.values())


def test_every_role_given_is_a_row_of_the_seed():
    seed = set(vocabulary.entries("participation_roles"))
    assert seed == {"modellprojekt", "mentor_city", "label", "partner", "mentioned"}
    assert programmes.MENTIONED in seed and {role for role, _ in programmes._ROLE_CUES} == seed - {"mentioned"}


def test_a_programme_only_a_participation_names_joins_the_article_programmes(cat):
    text = "Das Modellprojekt Smart City Lemgo zeigt seine neue App."
    cities = places.find_cities(text)
    found = programmes.find_participations(text, cities, [], cat)
    assert [(p.programme_id, p.role) for p in found] == [(MPSC, "modellprojekt")]
    (mention,) = programmes.linked_programmes(text, found, [], cat)
    assert (mention.programme_id, mention.surface, mention.offset) == (MPSC, "Modellprojekt Smart City", 4)
    named = programmes.find_programmes(text, cat)
    assert programmes.linked_programmes(text, found, named, cat) is named


# ------------------------------------------------------------------------------------------------ warehouse
SOURCE = Source(id="lokal", name="Lokalzeitung", kind="other", listings=["https://zeitung.example/lokales/"])
ARTICLES = {
    "https://zeitung.example/lokales/icc-auftakt": (
        "Intelligent Cities Challenge startet in Bamberg",
        ["Der Auftakt der Intelligent Cities Challenge fand am Dienstag in Bamberg statt.",
         "Wolfsburg, Mentorstadt der Intelligent Cities Challenge, berichtete dort von seinen Erfahrungen.",
         "Aus Gera kamen Fachleute der Stadtverwaltung."]),
    "https://zeitung.example/lokales/missionslabel": (
        "Missionslabel für Jena",
        ["Neun Städte hatten sich um das Missionslabel der EU-Städtemission beworben, unter ihnen Gera, Jena "
         "und Cottbus.",
         "Als einzige Stadt hat Jena das Mission Label erhalten."]),
}


def page(url: str, title: str, paragraphs: list[str]) -> FetchedPage:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (f"<html><head><title>{title}</title><meta property='article:published_time' content='2025-09-02'>"
            f"</head><body><article><h1>{title}</h1>{body}</article></body></html>")
    return FetchedPage("lokal", url, url, 200, "text/html", html, dt.datetime(2025, 9, 3, 8, 0))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("participation") / "w.duckdb"
    pages = [page(url, title, paragraphs) for url, (title, paragraphs) in ARTICLES.items()]
    articles = [process_page(p, SOURCE) for p in pages]
    assert all(a is not None and a.participations for a in articles)
    with connect(db) as con:
        archived = load.archive_pages(con, pages, "run-1")
        load.load_articles(con, articles, "run-1", archived_now=archived)
        load.load_articles(con, articles, "run-1")  # a repeated load replaces, never duplicates
    run_dbt(db, "build")  # raises naming any failed model or test (role related to the seed among them)
    return db


@pytest.mark.e2e
def test_city_programmes_hold_only_the_roles_stated_with_their_sentence(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("""
            select c.name, p.programme_id, p.role, p.is_stated, p.evidence, p.article_count
            from marts.city_programmes p join marts.cities c using (city_id)
            order by c.name, p.programme_id""").fetchall()
        raw = con.execute("select count(*), count(distinct (article_id, city_id, programme_id, role)) "
                          "from raw.participations").fetchone()
        taking_part = dict(con.execute("select name, programme_ids from marts.cities").fetchall())
    assert rows == [
        ("Bamberg", ICC, "mentioned", False, "Intelligent Cities Challenge startet in Bamberg", 1),  # the title
        ("Cottbus", MISSION, "mentioned", False,
         "Neun Städte hatten sich um das Missionslabel der EU-Städtemission beworben, unter ihnen Gera, Jena "
         "und Cottbus.", 1),
        ("Gera", MISSION, "mentioned", False,
         "Neun Städte hatten sich um das Missionslabel der EU-Städtemission beworben, unter ihnen Gera, Jena "
         "und Cottbus.", 1),
        ("Gera", ICC, "mentioned", False, None, 1),
        ("Jena", MISSION, "label", True, "Als einzige Stadt hat Jena das Mission Label erhalten.", 1),
        ("Wolfsburg", ICC, "mentor_city", True,
         "Wolfsburg, Mentorstadt der Intelligent Cities Challenge, berichtete dort von seinen Erfahrungen.", 1),
    ]
    assert raw[0] == raw[1] == 6
    assert taking_part == {"Bamberg": [], "Cottbus": [], "Gera": [], "Jena": [MISSION], "Wolfsburg": [ICC]}


@pytest.mark.e2e
def test_a_warehouse_from_before_participations_loses_the_mention_roles(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    # As a warehouse made before numbered migrations and raw.participations: the schema of then, without
    # ops.schema_version, and a role per (article, programme) mention.
    with duckdb.connect(str(db)) as con:
        con.execute(unversioned.INITIAL_SQL.read_text(encoding="utf-8"))
        con.execute("alter table raw.mentions add column role varchar")
        con.execute("insert into raw.mentions values ('a', 'programme', 'mpsc', 'MPSC', 0, 1, 'modellprojekt')")
        con.execute("create schema intermediate")
        con.execute("create table intermediate.int_article_mentions as select 1 as stale")
    monkeypatch.setattr(warehouse_db, "_CURRENT_FILES", set())  # as a new process opens it
    with connect(db) as con:
        columns = [c for (c,) in con.execute("select column_name from duckdb_columns() where schema_name = 'raw' "
                                             "and table_name = 'mentions'").fetchall()]
        assert "role" not in columns
        assert con.execute("select count(*) from raw.mentions").fetchone()[0] == 1
        assert con.execute("select count(*) from duckdb_tables() where table_name = 'int_article_mentions'"
                           ).fetchone()[0] == 0
