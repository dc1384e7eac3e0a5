"""Deterministic synthetic news sites for the benchmark: German smart-city articles, listings, feeds and sitemaps."""
from __future__ import annotations

import datetime as dt
import html
import json
import random
import re
import unicodedata
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path

PER_PAGE = 20
FEED_ITEMS = 50
STYLES = ("time", "veroeffentlicht", "jsonld", "lead", "long")
MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember"]
WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
# Publication dates stay in the past of any plausible run date, so a warm run never sees a "newer" article.
FIRST_DAY, LAST_DAY = dt.date(2018, 1, 1), dt.date(2025, 6, 30)

CITIES = [
    "Aachen", "Augsburg", "Bamberg", "Berlin", "Bielefeld", "Bochum", "Bonn", "Bottrop", "Braunschweig", "Bremen",
    "Chemnitz", "Cottbus", "Darmstadt", "Dortmund", "Dresden", "Duisburg", "Düsseldorf", "Erfurt", "Essen",
    "Flensburg", "Frankfurt am Main", "Freiburg im Breisgau", "Gelsenkirchen", "Gera", "Görlitz", "Göttingen",
    "Gütersloh", "Hagen", "Halle (Saale)", "Hamburg", "Hameln", "Hannover", "Heidelberg", "Heilbronn", "Jena",
    "Kaiserslautern", "Karlsruhe", "Kassel", "Kiel", "Koblenz", "Köln", "Konstanz", "Leipzig", "Lemgo", "Lübeck",
    "Ludwigsburg", "Lüneburg", "Magdeburg", "Mainz", "Mannheim", "Marburg", "Mönchengladbach", "Münster",
    "Nürnberg", "Oldenburg", "Osnabrück", "Paderborn", "Potsdam", "Regensburg", "Rostock", "Saarbrücken",
    "Schwerin", "Solingen", "Stuttgart", "Trier", "Tübingen", "Ulm", "Wuppertal", "Würzburg", "Wolfsburg",
    "Zwickau", "Arnsberg", "Bad Belzig", "Gotha", "Haßfurt", "Iserlohn", "Kirchheim unter Teck", "Wunsiedel",
]
PROGRAMMES = [
    "Modellprojekte Smart Cities", "EU-Mission „100 klimaneutrale und intelligente Städte bis 2030“",
    "Intelligent Cities Challenge", "Smart City Dialog", "Nationale Klimaschutzinitiative", "Horizont Europa",
    "Europäischen Fonds für regionale Entwicklung", "URBACT", "Interreg Europe", "Neues Europäisches Bauhaus",
    "Städtebauförderung", "mFUND", "Smart City Charta", "Digitale Modellregionen NRW", "CIVITAS",
]
EVENT_KINDS = ["Fachkonferenz", "Workshop", "Bürgerdialog", "Netzwerktreffen", "Hackathon", "Informationsabend",
               "Fachtag", "Symposium", "Kongress", "Innovationsforum", "Barcamp", "Aktionstag"]
EVENT_TOPICS = ["Urbane Datenplattformen", "Digitale Zwillinge", "Klimaneutrale Quartiere", "Kommunale Wärmeplanung",
                "Smarte Mobilität", "Open Data in der Verwaltung", "Sensorik im Stadtraum", "Resiliente Innenstädte",
                "Stadtgrün und Klimaanpassung", "KI in der Kommune", "Bürgerbeteiligung digital",
                "Energie im Quartier"]
VENUES = ["im Kongresszentrum", "im Rathaus", "im Haus der Wissenschaft", "in der Stadtbibliothek",
          "im Kulturhaus", "in der Stadthalle", "auf dem Campus der Hochschule", "im Museum für Stadtgeschichte",
          "im Foyer des Technischen Rathauses", "in der Alten Feuerwache"]
ROLES = ["Oberbürgermeisterin", "Oberbürgermeister", "Digitalisierungsbeauftragte", "Projektleiter",
         "Leiterin des Smart-City-Teams", "Klimaschutzmanager", "Beigeordnete für Stadtentwicklung", "CDO"]
FIRST_NAMES = ["Anna", "Jonas", "Katrin", "Matthias", "Sabine", "Tobias", "Miriam", "Felix", "Ulrike", "Stefan",
               "Leonie", "Andreas", "Birgit", "Karim", "Elif", "Henrik"]
LAST_NAMES = ["Becker", "Hoffmann", "Krause", "Lehmann", "Neumann", "Schulte", "Vogel", "Wagner", "Yilmaz",
              "Zimmermann", "Brandt", "Kowalski", "Hartmann", "Seidel", "Arslan", "Fuchs"]
PROJECTS = ["Datenplattform", "Sensornetz", "Bürger-App", "Digitaler Zwilling", "LoRaWAN-Netz", "Parkleitsystem",
            "Mobilitätsstation", "Klimaportal", "Open-Data-Portal", "Wärmekataster", "Umweltmonitoring",
            "Reallabor", "Smart-Parking-Pilot", "Energieleitstelle"]
GENERAL_TOPICS = ["die Sanierung der Grundschule", "die neue Öffnungszeit des Bürgerbüros", "den Weihnachtsmarkt",
                  "die Sperrung der Brücke", "die Baumpflanzaktion im Stadtpark", "das Sommerkonzert",
                  "die Müllabfuhr an Feiertagen", "den Neubau der Feuerwache", "die Kita-Anmeldung",
                  "den Ausbau des Radwegs"]

RELEVANT_TITLES = [
    "{city} startet {project}", "{project}: {city} zieht erste Bilanz", "Neue Förderung für {project} in {city}",
    "{city} wird Teil der {programme_short}", "{event_kind} „{event_topic}“ in {city}",
    "So nutzt {city} Daten für den Klimaschutz", "{city} stellt Smart-City-Strategie vor",
    "{project} geht in {city} in den Regelbetrieb", "Digitale Verwaltung: {city} erweitert Angebot",
    "Klimaneutral bis 2035: {city} legt Fahrplan vor",
]
GENERAL_TITLES = ["Hinweise zu {topic} in {city}", "{city} informiert über {topic}",
                  "Was Sie über {topic} wissen müssen"]

# Sentence templates; each slot is filled per article from the seeded generator.
SENTENCES = [
    "Mit dem Projekt {project} will {city} die Daten aus Verkehr, Energie und Umwelt an einem Ort bündeln.",
    "Die Stadtverwaltung von {city} setzt dabei auf offene Schnittstellen und freie Software.",
    "Bis Ende {year} sollen weitere {n} Standorte an das {project} angeschlossen werden.",
    "Gefördert wird das Vorhaben im Rahmen der {programme}.",
    "{city} gehört seit {year} zu den Kommunen, die über die {programme} unterstützt werden.",
    "Die Ergebnisse fließen in die kommunale Wärmeplanung und in die Klimaanpassungsstrategie ein.",
    "Bürgerinnen und Bürger können die Messwerte auf dem Open-Data-Portal der Stadt abrufen.",
    "Insgesamt stehen für die nächsten {n} Monate rund {money} Millionen Euro zur Verfügung.",
    "Das Team arbeitet eng mit der Hochschule und den Stadtwerken von {city} zusammen.",
    "Auch Partnerkommunen wie {city2} und {city3} wollen die Lösung übernehmen.",
    "Die Sensoren messen Temperatur, Feinstaub und die Auslastung von Parkplätzen in Echtzeit.",
    "Im Quartier rund um den Bahnhof entsteht ein Reallabor für neue Mobilitätsangebote.",
    "Die Digitalisierung der Verwaltung ist eines der zentralen Ziele der Stadtspitze.",
    "Bereits im ersten Jahr wurden mehr als {n} Anträge digital gestellt.",
    "Die Smart-City-Strategie beschreibt insgesamt {n} Maßnahmen in fünf Handlungsfeldern.",
    "Ein Beirat aus Wissenschaft, Wirtschaft und Zivilgesellschaft begleitet die Umsetzung.",
    "Die Erfahrungen aus {city2} haben gezeigt, dass frühe Beteiligung die Akzeptanz deutlich erhöht.",
    "Der Stadtrat hat dem Konzept im {month} mit großer Mehrheit zugestimmt.",
    "Ein digitaler Zwilling der Innenstadt soll künftig Planungen sichtbar machen, bevor gebaut wird.",
    "Über eine Beteiligungsplattform konnten Interessierte eigene Ideen einbringen.",
    "Photovoltaik auf städtischen Dächern und neue Ladepunkte gehören zu den ersten Schritten.",
    "Die Koordinierungs- und Transferstelle unterstützt die Kommunen bei der Verbreitung der Ergebnisse.",
    "Künstliche Intelligenz hilft dabei, Wartungsbedarf an Straßenbeleuchtung früh zu erkennen.",
    "Der Abschlussbericht soll im {month} {year} veröffentlicht werden.",
]
# Off-topic news: many templates with many slots, so two general articles rarely share enough word shingles
# for the near-duplicate detection (SimHash, <= 3 bits) to merge them; with only a few slot-free templates
# about 5 % of them collapsed into one another in marts.articles.
GENERAL_SENTENCES = [
    "Die Arbeiten beginnen voraussichtlich im {month} und dauern rund {n} Wochen.",
    "Anwohnerinnen und Anwohner der {street} werden gebeten, die Hinweisschilder zu beachten.",
    "Das {office} ist telefonisch von {weekday} bis Freitag zwischen {hour} und {hour2} Uhr erreichbar.",
    "Weitere Auskünfte erteilt das {office} der Stadt {city}.",
    "Die Kosten für {topic} belaufen sich auf etwa {money} Millionen Euro.",
    "Für Rückfragen zu {topic} steht die Pressestelle unter der Durchwahl {phone} zur Verfügung.",
    "Die Umleitung über die {street} ist ausgeschildert; die Buslinie {line} fährt eine Ersatzhaltestelle an.",
    "Am {weekday}, dem {day}. {month}, bleibt das {office} wegen einer Personalversammlung geschlossen.",
    "Der Ausschuss für {committee} hat sich in seiner Sitzung am {day}. {month} mit {topic} befasst.",
    "Rund {n} Haushalte in {district} erhalten in den kommenden Tagen ein Informationsschreiben.",
    "Wer Fragen zu {topic} hat, kann am {weekday} ab {hour} Uhr in die Sprechstunde im {office} kommen.",
    "Die {street} ist zwischen Hausnummer {house} und {house2} voraussichtlich bis zum {day}. {month} gesperrt.",
    "Nach Angaben des {office} haben sich bereits {n} Personen angemeldet.",
    "Im {district} stehen während der Bauzeit {n} Parkplätze weniger zur Verfügung.",
    "Die Stadt {city} bittet um Verständnis für mögliche Einschränkungen im {district}.",
    "Anmeldungen nimmt das {office} bis zum {day}. {month} schriftlich oder per E-Mail entgegen.",
    "Bereits im vergangenen Jahr hatten {n} Besucherinnen und Besucher das Angebot im {district} genutzt.",
    "Die Buslinie {line} hält in dieser Zeit nicht an der Haltestelle {street}.",
    "Über {topic} entscheidet abschließend der Rat der Stadt in seiner Sitzung im {month}.",
    "Ein Teil der Mittel in Höhe von {money} Millionen Euro stammt aus dem Landeshaushalt.",
    "Der Eingang an der {street} ist barrierefrei; Hunde sind, außer Assistenzhunden, nicht erlaubt.",
    "Ansprechperson im {office} ist {person}, erreichbar unter der Durchwahl {phone}.",
    "Die Veranstaltung im {district} beginnt um {hour} Uhr, der Eintritt kostet {price} Euro.",
    "Fundsachen können im Bürgerbüro an der {street} abgeholt werden.",
]
STREETS = ["Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Gartenweg", "Lindenallee", "Marktplatz", "Kirchgasse",
           "Goethestraße", "Mühlenweg", "Am Stadtgraben", "Ringstraße", "Schulstraße", "Bergstraße", "Rosenweg",
           "Friedhofstraße", "Am Hafen", "Wilhelmstraße", "Kastanienallee", "Brunnenstraße", "Talstraße"]
OFFICES = ["Bürgerbüro", "Ordnungsamt", "Tiefbauamt", "Amt für Grünflächen", "Standesamt", "Schulverwaltungsamt",
           "Jugendamt", "Sozialamt", "Kulturamt", "Bauordnungsamt", "Straßenverkehrsamt", "Sportamt"]
DISTRICTS = ["Stadtteil Nord", "Ortsteil Süd", "Altstadtviertel", "Westend", "Ostviertel", "Neubaugebiet Am Feld",
             "Ortsteil Oberdorf", "Hafenviertel", "Kurviertel", "Bahnhofsviertel", "Stadtteil Mitte", "Südstadt"]
COMMITTEES = ["Bauen und Verkehr", "Schule und Sport", "Soziales", "Kultur", "Umwelt und Grün", "Finanzen",
              "Ordnung und Sicherheit", "Jugendhilfe"]
QUOTES = [
    "„Wir wollen zeigen, dass Digitalisierung im Alltag spürbar hilft“, sagt {role} {person}.",
    "„Die Daten gehören der Stadtgesellschaft“, betont {role} {person}.",
    "„Ohne die Förderung wäre dieses Tempo nicht möglich gewesen“, erklärt {role} {person}.",
    "„Wir lernen viel von anderen Städten und geben unsere Erfahrungen weiter“, so {role} {person}.",
]

esc = html.escape


class _Keep(dict):
    """format_map mapping that leaves unknown slots as they are, for a second format() pass."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Site:
    """One benchmark source: its id, display name, home city, page style and base URL."""

    index: int
    source_id: str
    name: str
    city: str
    style: str
    base_url: str


@dataclass(frozen=True)
class ArticleMeta:
    """What discovery documents say about an article: URL path, title, teaser and publication date."""

    site: int
    number: int
    path: str
    title: str
    teaser: str
    published: dt.date
    relevant: bool
    city: str


def slugify(text: str) -> str:
    """ASCII slug of a German title."""
    text = text.replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def german_date(d: dt.date) -> str:
    """'24. September 2025'."""
    return f"{d.day}. {MONTHS[d.month - 1]} {d.year}"


def _rng(*parts: object) -> random.Random:
    # A string seed is hashed with sha512, so the sequence does not depend on PYTHONHASHSEED.
    return random.Random(":".join(str(p) for p in parts))


class Corpus:
    """M articles spread over N sites, every page a pure function of (seed, site, article number)."""

    def __init__(self, size: int, base_urls: list[str], seed: int = 8):
        self.size = size
        self.seed = seed
        rng = _rng(seed, "sites")
        homes = rng.sample(CITIES, len(base_urls))
        self.sites = [
            Site(i, f"bench_{i:02d}", f"Stadt {homes[i]} – Aktuelles", homes[i], STYLES[i % len(STYLES)],
                 url.rstrip("/"))
            for i, url in enumerate(base_urls)
        ]
        self.articles: list[list[ArticleMeta]] = [[] for _ in self.sites]
        for n in range(size):
            site = self.sites[n % len(self.sites)]
            self.articles[site.index].append(self._meta(site, n))
        for items in self.articles:  # newest first, as listings and feeds show them
            items.sort(key=lambda a: (a.published, a.number), reverse=True)

    # ------------------------------------------------------------------ what each article is about
    def _meta(self, site: Site, number: int) -> ArticleMeta:
        r = _rng(self.seed, "meta", number)
        relevant = r.random() < 0.75
        span = (LAST_DAY - FIRST_DAY).days
        published = FIRST_DAY + dt.timedelta(days=r.randrange(span + 1))
        city = site.city if r.random() < 0.6 else r.choice(CITIES)
        if relevant:
            title = r.choice(RELEVANT_TITLES).format(
                city=city, project=r.choice(PROJECTS), programme_short=r.choice(PROGRAMMES[:4]),
                event_kind=r.choice(EVENT_KINDS), event_topic=r.choice(EVENT_TOPICS))
            teaser = (f"{city} zeigt, wie {r.choice(PROJECTS)} und offene Daten den Alltag in der Stadt verändern "
                      f"können.")
        else:
            title = r.choice(GENERAL_TITLES).format(city=city, topic=r.choice(GENERAL_TOPICS))
            teaser = f"Die Stadt {city} gibt Hinweise für Bürgerinnen und Bürger."
        path = f"/aktuelles/meldungen/{number:06d}-{slugify(title)}.html"
        return ArticleMeta(site.index, number, path, title, teaser, published, relevant, city)

    def all_articles(self) -> list[ArticleMeta]:
        """Every article of every site, site by site, newest first within a site."""
        return [a for items in self.articles for a in items]

    def url(self, meta: ArticleMeta) -> str:
        """Absolute URL of an article."""
        return self.sites[meta.site].base_url + meta.path

    # ------------------------------------------------------------------ article text
    def paragraphs(self, meta: ArticleMeta) -> list[str]:
        """Body paragraphs of an article (plain text), including a dated event sentence for most relevant ones."""
        r = _rng(self.seed, "body", meta.number)
        city = meta.city
        pool = SENTENCES if meta.relevant else GENERAL_SENTENCES

        def fill(template: str) -> str:
            return template.format(
                city=city, city2=r.choice(CITIES), city3=r.choice(CITIES), project=r.choice(PROJECTS),
                programme=r.choice(PROGRAMMES), year=r.randint(2019, 2027), n=r.randint(3, 480),
                money=f"{r.randint(1, 40)},{r.randint(0, 9)}", month=MONTHS[r.randrange(12)],
                role=r.choice(ROLES), person=f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}")

        if not meta.relevant:  # the extra slots of the off-topic templates (on-topic pages draw none of them)
            base = fill

            def fill(template: str) -> str:
                hour = r.randint(7, 15)
                return base(template.format_map(_Keep(
                    street=r.choice(STREETS), office=r.choice(OFFICES), district=r.choice(DISTRICTS),
                    committee=r.choice(COMMITTEES), topic=r.choice(GENERAL_TOPICS), weekday=r.choice(WEEKDAYS[:5]),
                    day=r.randint(1, 28), hour=hour, hour2=hour + r.randint(2, 5), line=r.randint(1, 99),
                    house=(h := r.randint(1, 60)), house2=h + r.randint(4, 40), phone=r.randint(1000, 9999),
                    price=r.randint(2, 25),
                    person=f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}")))

        paras = []
        for _ in range(r.randint(6, 14)):
            paras.append(" ".join(fill(r.choice(pool)) for _ in range(r.randint(2, 5))))
        if r.random() < 0.5:
            paras.insert(r.randint(1, len(paras)), fill(r.choice(QUOTES)))
        if meta.relevant and r.random() < 0.7:
            day = meta.published + dt.timedelta(days=r.randint(7, 90))
            start = r.randint(9, 17)
            where = r.choice(CITIES) if r.random() < 0.3 else city
            paras.insert(r.randint(1, len(paras)),
                         f"Am {german_date(day)} findet von {start} bis {start + r.randint(2, 6)} Uhr der "
                         f"{r.choice(EVENT_KINDS)} „{r.choice(EVENT_TOPICS)}“ {r.choice(VENUES)} in {where} statt. "
                         f"Die Teilnahme ist kostenfrei, eine Anmeldung ist erforderlich.")
        return paras

    # ------------------------------------------------------------------ pages
    def article_html(self, meta: ArticleMeta) -> str:
        """The full article page: shell, navigation noise, the article in the site's style, related news, footer."""
        site = self.sites[meta.site]
        r = _rng(self.seed, "page", meta.number)
        paras = self.paragraphs(meta)
        d = meta.published
        url = self.url(meta)
        head = [f'<link rel="canonical" href="{esc(url)}">', f'<meta property="og:title" content="{esc(meta.title)}">',
                f'<meta name="description" content="{esc(meta.teaser)}">']
        body_html = "\n".join(f"<p>{esc(p)}</p>" for p in paras)
        crumbs = (f'<nav class="breadcrumb" aria-label="Sie sind hier"><ol><li><a href="/">Startseite</a></li>'
                  f'<li><a href="/aktuelles/">Aktuelles</a></li><li>{esc(meta.title)}</li></ol></nav>')
        if site.style == "time":
            main = (f'<article class="news-detail"><h1>{esc(meta.title)}</h1><div class="meta">'
                    f'<time datetime="{d.isoformat()}">{d:%d.%m.%Y}</time> | Pressestelle</div>'
                    f'<div class="lead"><p>{esc(meta.teaser)}</p></div><div class="text">{body_html}</div></article>')
        elif site.style == "veroeffentlicht":
            main = (f'<div class="article"><h1 class="headline">{esc(meta.title)}</h1>'
                    f'<p class="date">Veröffentlicht am {d:%d.%m.%Y}</p><p class="teaser"><strong>'
                    f'{esc(meta.teaser)}</strong></p>{body_html}</div>')
        elif site.style == "jsonld":
            ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": meta.title,
                             "datePublished": f"{d.isoformat()}T09:00:00+01:00", "inLanguage": "de",
                             "publisher": {"@type": "Organization", "name": site.name}}, ensure_ascii=False)
            head.append(f'<script type="application/ld+json">{ld}</script>')
            main = (f'<article><header><h1>{esc(meta.title)}</h1><p class="byline">Pressestelle {esc(site.city)}'
                    f'</p></header><p class="summary">{esc(meta.teaser)}</p>{body_html}</article>')
        elif site.style == "lead":
            first = f"{d:%d.%m.%Y} — {paras[0]}"
            rest = "\n".join(f"<p>{esc(p)}</p>" for p in paras[1:])
            main = (f'<div class="node node--type-news"><h1 class="page-title">{esc(meta.title)}</h1>'
                    f'<div class="field--name-field-teaser-text"><p>{esc(meta.teaser)}</p></div>'
                    f'<div class="paragraph paragraph--type-text"><p>{esc(first)}</p>{rest}</div></div>')
        else:
            main = (f'<div class="newsroom-article"><p class="kicker">Newsroom</p><h1>{esc(meta.title)}</h1>'
                    f'<p class="news-date">{WEEKDAYS[d.weekday()]}, {german_date(d)}</p>'
                    f'<p class="intro">{esc(meta.teaser)}</p><div class="text">{body_html}</div></div>')
        related = self._related(meta, r)
        target = r.randint(40_000, 100_000)
        page = self._shell(site, meta.title, "\n".join(head),
                           f'<main id="main">{crumbs}{main}{related}</main>', r, target)
        return page

    def _related(self, meta: ArticleMeta, r: random.Random) -> str:
        items = self.articles[meta.site]
        picks = [items[r.randrange(len(items))] for _ in range(min(6, len(items)))]
        cards = "".join(
            f'<div class="teaser"><a href="{esc(a.path)}">{esc(a.title)}</a><span class="date">'
            f'{a.published:%d.%m.%Y}</span><p>{esc(a.teaser)}</p></div>' for a in picks)
        return f'<aside class="related"><h2>Das könnte Sie auch interessieren</h2>{cards}</aside>'

    def _shell(self, site: Site, title: str, head: str, main: str, r: random.Random, target: int) -> str:
        menu = self._menu(site)
        footer = (f'<footer class="site-footer"><address>Stadt {esc(site.city)}<br>Der Oberbürgermeister<br>'
                  f'Rathausplatz {1 + site.index}<br>{10000 + 997 * site.index} {esc(site.city)}<br>'
                  f'Telefon 0{300 + site.index} 123-0<br>E-Mail: info@stadt-{slugify(site.city)}.de</address>'
                  '<ul class="footer-links"><li><a href="/impressum/">Impressum</a></li><li><a href="/datenschutz/">'
                  'Datenschutz</a></li><li><a href="/barrierefreiheit/">Barrierefreiheit</a></li>'
                  '<li><a href="/kontakt/">Kontakt</a></li></ul></footer>')
        cookie = ('<div class="cookie-banner" role="dialog"><p>Wir verwenden Cookies und ähnliche Technologien, um '
                  'Ihnen den bestmöglichen Service zu bieten und die Nutzung unserer Website zu analysieren. Sie '
                  'können Ihre Auswahl jederzeit in den Datenschutzeinstellungen ändern.</p><button>Alle '
                  'akzeptieren</button> <button>Nur notwendige</button> <a href="/datenschutz/">Mehr erfahren</a>'
                  '</div>')
        top = (f'<!DOCTYPE html>\n<html lang="de">\n<head>\n<meta charset="utf-8">\n<title>{esc(title)} | '
               f'{esc(site.name)}</title>\n<meta name="viewport" content="width=device-width, initial-scale=1">\n'
               f'{head}\n<link rel="alternate" type="application/rss+xml" href="/aktuelles/rss.xml">\n'
               f'<style>{_CSS}</style>\n</head>\n<body>\n{cookie}\n<header class="site-header"><a class="skip" '
               f'href="#main">Zum Inhalt springen</a><nav class="mega-menu">{menu}</nav></header>\n')
        bottom = f"\n{footer}\n</body>\n</html>\n"
        filler = self._filler(site, r, target - len(top) - len(main) - len(bottom))
        return top + main + filler + bottom

    def _menu(self, site: Site) -> str:
        # A three-level mega menu, as city portals print on every page (~20 KB of links).
        r = _rng(self.seed, "menu", site.index)
        sections = ["Rathaus", "Leben in der Stadt", "Wirtschaft", "Kultur", "Umwelt", "Verkehr", "Digitales",
                    "Bildung"]
        out = ['<ul class="menu level-1">']
        for s in sections:
            out.append(f'<li><a href="/{slugify(s)}/">{s}</a><ul class="level-2">')
            for k in range(6):
                sub = f"{s} {r.choice(['Service', 'Projekte', 'Themen', 'Angebote', 'Beratung', 'Termine'])} {k + 1}"
                out.append(f'<li><a href="/{slugify(s)}/{slugify(sub)}/">{esc(sub)}</a><ul class="level-3">')
                out.extend(f'<li><a href="/{slugify(s)}/{slugify(sub)}/{j}/">{esc(sub)} – Seite {j}</a></li>'
                           for j in range(1, 5))
                out.append("</ul></li>")
            out.append("</ul></li>")
        out.append("</ul>")
        return "".join(out)

    def _filler(self, site: Site, r: random.Random, room: int) -> str:
        # The rest of a real page's weight: a footer sitemap block and an inline state script.
        if room <= 0:
            return ""
        links, size = ['<div class="footer-sitemap"><h2>Alle Themen</h2><ul>'], 0
        while size < room // 2:
            label = f"{r.choice(GENERAL_TOPICS).capitalize()} ({r.choice(CITIES)})"
            item = f'<li><a href="/themen/{slugify(label)}/">{esc(label)}</a></li>'
            links.append(item)
            size += len(item)
        links.append("</ul></div>")
        tracking = [r.getrandbits(64) for _ in range(max(0, room // 2) // 22)]
        state = json.dumps({"site": site.source_id, "tracking": tracking})
        return "".join(links) + f'<script>window.__STATE__ = {state};</script>'

    def listing_html(self, site_index: int, page: int) -> str:
        """Listing page `page` (1-based) of a site: 20 teasers, rel=prev/next pagination."""
        site = self.sites[site_index]
        items = self.articles[site_index]
        pages = self.listing_count(site_index)
        chunk = items[(page - 1) * PER_PAGE: page * PER_PAGE]
        cards = "".join(
            f'<article class="teaser"><h2><a href="{esc(a.path)}">{esc(a.title)}</a></h2>'
            f'<span class="date">{a.published:%d.%m.%Y}</span><p>{esc(a.teaser)}</p></article>' for a in chunk)
        pager = []
        if page > 1:
            pager.append(f'<a rel="prev" href="{self.listing_path(page - 1)}">Zurück</a>')
        if page < pages:
            pager.append(f'<a rel="next" class="next" href="{self.listing_path(page + 1)}">Weiter</a>')
        main = (f'<main id="main"><h1>Aktuelles</h1><div class="news-list">{cards}</div>'
                f'<nav class="pager">{" ".join(pager)}</nav></main>')
        return self._shell(site, "Aktuelles", "", main, _rng(self.seed, "listing", site_index, page), 0)

    @staticmethod
    def listing_path(page: int) -> str:
        """Path of listing page `page`."""
        return "/aktuelles/" if page == 1 else f"/aktuelles/seite-{page}/"

    def listing_count(self, site_index: int) -> int:
        """Number of listing pages of a site."""
        return max(1, -(-len(self.articles[site_index]) // PER_PAGE))

    def feed_xml(self, site_index: int) -> str:
        """RSS 2.0 feed with the newest 50 articles of a site."""
        site = self.sites[site_index]
        entries = []
        for a in self.articles[site_index][:FEED_ITEMS]:
            when = dt.datetime(a.published.year, a.published.month, a.published.day, 9, 0, tzinfo=dt.UTC)
            link = esc(site.base_url + a.path)
            entries.append(f"<item><title>{esc(a.title)}</title><link>{link}</link><guid>{link}</guid>"
                           f"<pubDate>{format_datetime(when)}</pubDate><description>{esc(a.teaser)}</description></item>")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                f"<title>{esc(site.name)}</title><link>{esc(site.base_url)}/aktuelles/</link>"
                "<description>Nachrichten</description>" + "".join(entries) + "</channel></rss>\n")

    def sitemap_xml(self, site_index: int) -> str:
        """Sitemap of every article of a site, with lastmod."""
        base = self.sites[site_index].base_url
        urls = "".join(f"<url><loc>{esc(base + a.path)}</loc><lastmod>{a.published.isoformat()}</lastmod></url>"
                       for a in self.articles[site_index])
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                + urls + "</urlset>\n")

    def robots_txt(self, site_index: int) -> str:
        """robots.txt allowing everything and naming the sitemap."""
        return f"User-agent: *\nAllow: /\nSitemap: {self.sites[site_index].base_url}/sitemap.xml\n"

    def pages(self, site_index: int):
        """(path, kind, text) of every page of a site: robots, feed, sitemap, listings, articles."""
        yield "/robots.txt", "robots", self.robots_txt(site_index)
        yield "/aktuelles/rss.xml", "feed", self.feed_xml(site_index)
        yield "/sitemap.xml", "sitemap", self.sitemap_xml(site_index)
        for page in range(1, self.listing_count(site_index) + 1):
            yield self.listing_path(page), "listing", self.listing_html(site_index, page)
        for a in self.articles[site_index]:
            yield a.path, "article", self.article_html(a)

    def write(self, out_dir: Path) -> dict[int, dict[str, tuple[str, Path]]]:
        """Render every page to out_dir/<site>/...; returns per site a map path -> (kind, file)."""
        routes: dict[int, dict[str, tuple[str, Path]]] = {}
        for site in self.sites:
            table = routes[site.index] = {}
            root = out_dir / site.source_id
            for path, kind, text in self.pages(site.index):
                file = root / (path.strip("/") or "index").replace("/", "__")
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_bytes(text.encode("utf-8"))
                table[path] = (kind, file)
        return routes

    def sources_yaml(self) -> str:
        """A sources file with one entry per site (loopback allowed, fast politeness settings)."""
        entries = []
        for site in self.sites:
            entries.append(f"""  - id: {site.source_id}
    name: "{site.name}"
    kind: municipal
    city: "{site.city}"
    feeds: ["{site.base_url}/aktuelles/rss.xml"]
    sitemaps: ["{site.base_url}/sitemap.xml"]
    listings: ["{site.base_url}/aktuelles/"]
    url_pattern: '^{re.escape(site.base_url)}/aktuelles/meldungen/[0-9]+-[^/?#]+\\.html$'
    allow_private_network: true
    rate_limit: 1000
    concurrency: 8
""")
        return "sources:\n" + "".join(entries)


_CSS = ("body{font-family:sans-serif;margin:0}.cookie-banner{position:fixed;bottom:0;background:#eee}"
        ".mega-menu .level-2,.mega-menu .level-3{display:none}.mega-menu li:hover>ul{display:block}"
        ".breadcrumb ol{list-style:none;display:flex}.related .teaser{border-top:1px solid #ccc}"
        ".site-footer{background:#222;color:#fff}.footer-sitemap ul{columns:4}") * 8
