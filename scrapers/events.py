"""Find the dated events an article reports: a date near an event word, with its city, name and details (pure)."""
from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Iterator

from scrapers import gazetteer as gz
from scrapers import vocabulary
from scrapers.dates import DateSpan, find_dates, find_times, is_plausible
from scrapers.event_fields import (
    DETAIL_KEYS,
    VENUE,
    VENUE_HEADS,
    addresses,
    detail,
    event_name,
    event_type,
    event_words,
    find_address,
    find_organiser,
    first_event_word,
    in_venue_position,
    name_in_full,
    page_event_name,
    same_gathering,
    sentences,
    stem_positions,
    title_event_name,
)
from scrapers.places import find_cities
from scrapers.programmes import _catalogue_matches, load_programme_catalogue
from scrapers.records import ArticleRecord, CityMention, EventRecord

__all__ = ["find_events"]

# "am 5. Mai", "am Dienstag, 14. Oktober", "vom 3. bis": a date that may follow a title announcing an event.
_AM_DATE = re.compile(r"\b[Aa]m\s+(?:[A-Z][a-z]+,?\s+)?\d|\b[Vv]om\s+\d")
_ONLINE = re.compile(r"\b(" + vocabulary.alternation("event_cues", "pattern", kind="online") + r")", re.IGNORECASE)
# A date after these words is a deadline or the page's own date, not the day of an event.
_NOT_EVENT_BEFORE = re.compile(r"(" + vocabulary.alternation("event_cues", "pattern", kind="not_event_before")
                               + r")\W*$", re.IGNORECASE)
# A deadline named earlier in the clause ("Anmeldeschluss für die Konferenz ist der 15. September").
_DEADLINE_BEFORE = re.compile(r"(" + vocabulary.alternation("event_cues", "pattern", kind="deadline_noun")
                              + r")\b[^.;]{0,40}$", re.IGNORECASE)
# ... or a verb of applying right after it ("bis 31. März eingereicht werden").
_DEADLINE_AFTER = re.compile(r"^\W{0,3}(?:\d{4}\s*)?(?:\w+\s+){0,3}("
                             + vocabulary.alternation("event_cues", "pattern", kind="deadline_verb") + r")\b",
                             re.IGNORECASE)
_PAST = re.compile(r"\b(" + vocabulary.alternation("event_cues", "pattern", kind="past") + r")\b")
_FUTURE = re.compile(r"\b(" + vocabulary.alternation("event_cues", "pattern", kind="future") + r")\b")
def _pick_year(date: dt.date, end: dt.date | None, reference: dt.date, sentence: str) -> tuple[dt.date, dt.date | None]:
    """The year of a date written without one: the nearest to the publication day, unless the tense says
    otherwise (a report in January about "am 12. Dezember" means last December)."""
    options = []
    for delta in (-1, 0, 1):
        try:
            start = date.replace(year=reference.year + delta)
        except ValueError:  # 29 February
            continue
        shift = start.year - date.year
        options.append((start, end.replace(year=end.year + shift) if end else None))
    past, future = bool(_PAST.search(sentence)), bool(_FUTURE.search(sentence))
    slack = dt.timedelta(days=3)
    if past and not future:
        earlier = [o for o in options if o[0] <= reference + slack]
        if earlier:
            return max(earlier)
    if future and not past:
        later = [o for o in options if o[0] >= reference - slack]
        if later:
            return min(later)
    return min(options, key=lambda o: abs((o[0] - reference).days))


# A stretch of text this long without a sentence break is no sentence (a page without full stops): each of its
# dates is read with _DATE_CONTEXT characters either side instead. The longest sentence on the 354 real pages of
# ../shared/realworld has about 1,050 characters, 99 in 100 have under 350.
_LONGEST_SENTENCE = 1500
_DATE_CONTEXT = 600
_LONGEST_DATE = 100  # "Mittwoch, 18. November 2025 bis Donnerstag, 2. Dezember 2026" and then some
# More dated mentions than this in the sentences with event words is a calendar dump or a hostile page, not an
# article (real ones have up to about 50): the first ones give its events, and the cost of a page stays bounded.
_MAX_EVENT_DATES = 300


def _dated_clauses(sentence: str, reference: dt.date | None, words: list[re.Match[str]], find_words: bool
                   ) -> Iterator[tuple[DateSpan, str, int, list[re.Match[str]]]]:
    """(date, clause, offset of the clause in the sentence, event words of the clause) for each date of the
    sentence, in order. The clause is the sentence with its `words`; in an over-long one, the text around the
    date, with its event words when `find_words`. Read lazily: the caller may stop early."""
    if len(sentence) <= _LONGEST_SENTENCE:
        for span in find_dates(sentence, reference):
            yield span, sentence, 0, words
        return
    for span in _dates_piecewise(sentence, reference):
        at, until = _window(sentence, span.start, span.end, _DATE_CONTEXT)
        clause = sentence[at:until]
        yield (dataclasses.replace(span, start=span.start - at, end=span.end - at), clause, at,
               event_words(clause) if find_words else [])


def _dates_piecewise(text: str, reference: dt.date | None) -> Iterator[DateSpan]:
    """find_dates over a long text, one piece of about _LONGEST_SENTENCE characters at a time: the same dates
    (a piece reads on far enough to finish a date that starts in it), at a cost that grows with the length of
    the text no faster than the text itself, and only as far as the caller reads."""
    piece, done_until = 0, 0
    while piece < len(text):
        end = piece + _LONGEST_SENTENCE
        if end >= len(text):
            end = len(text)
        else:
            # Pieces meet at a space, where the look-behinds of the date patterns see what they would in the
            # whole text; a stretch without one is cut where it is.
            space = text.find(" ", end, end + _LONGEST_DATE)
            end = space if space != -1 else end
        for span in find_dates(text[piece:min(len(text), end + _LONGEST_DATE)], reference):
            start = span.start + piece
            if start >= end:
                break  # the next piece reads it
            if start >= done_until:  # not the tail of a date the piece before finished
                done_until = span.end + piece
                yield dataclasses.replace(span, start=start, end=done_until)
        piece = end + 1 if text[end:end + 1] == " " else end


def _window(text: str, start: int, end: int, reach: int) -> tuple[int, int]:
    """Bounds of the text around text[start:end], `reach` characters either side, cut at spaces so that no
    word is cut short (a cut-off "Neustadt" must not be read as "Stadt")."""
    lo, hi = max(0, start - reach), min(len(text), end + reach)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else start
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else end
    return lo, hi


# "Teams aus Bremen, Delmenhorst und Achim": where participants come from, not where the event is.
_ORIGIN = re.compile(r"\b(?:aus|von)\s+(?:[A-ZÄÖÜ][\w./()-]*(?:\s+(?:an der|am|im|bei|in der)\s+[A-ZÄÖÜ][\w-]*)?"
                     r"(?:\s*,\s*|\s+und\s+|\s+sowie\s+))*$")
# "Tagungsort ist das Haus Erholung", "Austragungsort ist die Hochschule Bremen": a venue stated as such.
_PLACE_KEYS = "|".join(re.escape(k) for k in DETAIL_KEYS["venue"] if k.endswith(("ort", "punkt")))
_STATED_VENUE = re.compile(r"\b(?i:" + _PLACE_KEYS + r")\s+(?:ist|war|sind)\s+"
                           r"(?:das|die|der|den)?\s*([A-ZÄÖÜ][^.;,\n]{2,80}?)"
                           r"(?=\s+(?:am|an der|in der|mit|im)\s|[.;,\n]|$)")


def _venue_in(text: str) -> str | None:
    """The venue a sentence names: "im Haus der Wissenschaft", "in die Stadthalle Bad Rappenau", "Tagungsort
    ist das Haus Erholung"."""
    m = _STATED_VENUE.search(text)
    if m:
        return m.group(1).strip()
    for v in VENUE.finditer(text):
        name = v.group(1)
        first, _, rest = name.partition(" ")
        if not VENUE_HEADS.search(name):
            continue
        cities = find_cities(name)
        if cities and cities[0].offset == 0:
            continue  # "in der Stadt Kiel": a city is no venue; "Rathaus Dülmen" is one
        if rest and not re.match(r"(?:für|der|des|am|an|zu)\b", rest):
            # Words after the building's name belong to it when they are its town ("Rathaussaal Zwiesel") or
            # an adjective and its noun ("Kulturzentrum Alte Weberei"); else they start the next phrase.
            town = gz.load().resolve(rest.strip()) is not None
            if not VENUE_HEADS.search(first):
                pass  # "Zeppelin Museum": the building's word comes last
            elif not town and not re.fullmatch(r"[A-ZÄÖÜ][a-zäöüß]+(?:e|en|er|es)\s[A-ZÄÖÜ][\w-]+", rest):
                name = first
        return name
    return None


# "… und endet am 20. März", "… bis zum 20. März": the end of the event whose start the clause gave.
_ENDS = re.compile(r"\b(?:" + vocabulary.alternation("event_cues", "pattern", kind="end")
                   + r")\s+(?:am\s+)?(?:\w+,?\s+)?$")


def _town_of(venue: str | None) -> str | None:
    """The gazetteer id of the town a venue's name ends with ("Rathaussaal Zwiesel"), else None."""
    if not venue or " " not in venue:
        return None
    town = gz.load().resolve(venue.rsplit(" ", 1)[1])
    return town.city_id if town is not None and town.country_code == "DE" else None


def _word_for(clause: str, words: list[re.Match[str]], date_at: int) -> re.Match[str]:
    """The event word a date belongs to: of the words near the date, the one that names its event most fully
    ("Den Auftakt bildet am 10. Februar der Fachtag „Wärmeplanung konkret“"), else the nearest."""
    near = [w for w in words if abs(w.start() - date_at) <= 80] or words

    def informative(w: re.Match[str]) -> tuple[int, int]:
        name = event_name(clause, w)
        return (("„" in name) + bool(re.match(r"\d{1,3}\.", name)) + (len(name.split()) > 1), -abs(w.start() - date_at))

    return max(near, key=informative)


# Over the C901 bound: one pass over an article's dates applying the documented rules in order.
def find_events(article: ArticleRecord, cities: list[CityMention],  # noqa: C901
                publisher_city_id: str | None = None) -> list[EventRecord]:
    """Dated events in an article: a date in a sentence with an event word (or right after a title that
    announces one), with its city ("in Konstanz", the venue's city, a city in that sentence, else the
    article's main city or the publisher's city). One event per (start date, city).

    Each event carries its kind (`event_type`), the address and organiser when the details block or the
    text gives them, and the catalogue programme named in its sentence (else the article's first).
    """
    # A far-off date would put yearless dates (and the arithmetic around them) out of range.
    reference = article.published_date if is_plausible(article.published_date) else None
    parts = [article.title or ""]
    if article.teaser and article.teaser.strip() and article.teaser.strip() not in (article.body_text or ""):
        parts.append(article.teaser)
    parts.append(article.body_text or "")
    text = "\n".join(parts)
    details = {k: v for k, v in (article.details or {}).items() if isinstance(v, str)}
    g = gz.load()
    cat = load_programme_catalogue()
    detail_venue = detail_place = detail(details, DETAIL_KEYS["venue"])
    venue_city = None
    if detail_venue:
        vc = find_cities(detail_venue, g)
        venue_city = vc[-1].city_id if vc else None
        rest = detail_venue
        for c in vc:
            rest = rest.replace(c.surface, " ")
        if vc and not re.sub(r"[\W\d_]+|\b(?:in|der|die|Stadt|Gemeinde)\b", "", rest):
            detail_venue = None  # "Ort: Dresden" says where, not in which venue: a city is no venue
        elif find_address(detail_venue) or re.search(r"\b\d{5}\b", detail_venue):
            # "Kulturfabrik, Langer Garten 1, 31137 Hildesheim": the venue is the name before the address.
            detail_venue = detail_venue.split(",")[0].strip() or None
    title_cities = find_cities(article.title or "", g)
    # The article's main city: the one in its title, else the first one named, else the publisher's.
    main_city = ((title_cities[0].city_id if title_cities else cities[0].city_id if cities else None)
                 or publisher_city_id)
    title_word = first_event_word(article.title or "")
    title_has_event = title_word is not None
    title_name = title_event_name(article.title, title_word) if title_word else None
    # One list per (day, place): two gatherings there stay two when their names tell them apart.
    events: dict[tuple[dt.date, str | None], list[EventRecord]] = {}
    # Events are addressed by (key, index in its list): entries are replaced, never moved.
    latest: list[tuple[tuple[dt.date, str | None], int]] = []  # the event read last, which "und endet am …" may end
    from_title: set[tuple[tuple[dt.date, str | None], int]] = set()  # named from the article's title only

    @functools.cache
    def article_wide() -> tuple[list[tuple[str, int, int]], str | None, list[tuple[str, str | None]]]:
        """Programmes, organiser and addresses of the whole article: read once, and only if it has events."""
        programmes = _catalogue_matches(text, cat)
        organiser = detail(details, DETAIL_KEYS["organiser"])
        if organiser is None:
            organiser = find_organiser([text[a:b] for a, b in sentence_spans])
        located = []
        for address, place in addresses(text):
            where = find_cities(place, g)
            located.append((address, where[0].city_id if where else None))
        return programmes, organiser, located

    # Over the C901 bound: the per-date rules (window, time, name, programme) on find_events' state.
    def add(date, end_date, sentence: str, s_start: int, date_pos: int, word: re.Match[str] | None,  # noqa: C901
            page_name: str | None = None) -> None:
        if reference is not None and not (reference - dt.timedelta(days=180) <= date
                                          <= reference + dt.timedelta(days=550)):
            return  # a historical year or a far-off plan is not an event the article reports
        online = bool(_ONLINE.search(sentence)) and not re.search(r"\bin\s+[A-ZÄÖÜ]", sentence)
        sentence_venue = _venue_in(sentence)
        city_id = None
        if not online:
            local = [c for c in find_cities(sentence, g) if not _ORIGIN.search(sentence[:c.offset])]
            after_in = [c for c in local if re.search(r"\b(in|nach)\s+(der\s+Stadt\s+)?$", sentence[:c.offset])]
            # "im Rathaussaal Zwiesel": the city the venue's name carries.
            at_venue = [c for c in local if VENUE_HEADS.search(sentence[max(0, c.offset - 30):c.offset])
                        and re.search(r"[\w-]+\s+$", sentence[:c.offset])
                        and _venue_in(sentence[max(0, c.offset - 60):c.offset + len(c.surface)]) is not None]
            if after_in:
                city_id = min(after_in, key=lambda c: abs(c.offset - (date_pos - s_start))).city_id
            elif venue_city:
                city_id = venue_city
            elif at_venue:
                city_id = at_venue[0].city_id
            elif (town := _town_of(sentence_venue)) is not None:
                city_id = town
            elif local:
                city_id = min(local, key=lambda c: abs(c.offset - (date_pos - s_start))).city_id
            else:
                city_id = main_city
        key = (date, city_id if not online else "online")
        if key in events and page_name is None and (word is None or any(
                same_gathering(e.name, word.group(0)) and (key, i) not in from_title
                for i, e in enumerate(events[key]))):
            return  # the gathering is known (the name below would not tell a different one)
        times = find_times(sentence) or [t for k, v in details.items()
                                         if k.strip().casefold().rstrip(":") in DETAIL_KEYS["time"]
                                         for t in find_times(v)][:1]
        if not times and word is not None:  # "Er beginnt um 9 Uhr …" in the next sentence
            times = next((find_times(t) for a, t in neighbours(s_start, s_start + len(sentence)) if a > s_start), [])
        article_programmes, article_organiser, article_addresses = article_wide()
        in_sentence = [pid for pid, a, _b in article_programmes if s_start <= a < s_start + len(sentence)]
        programme_id = next(iter(in_sentence or [pid for pid, _a, _b in article_programmes]), None)
        name = event_name(sentence, word) if word else (title_name if title_name is not None else sentence[:80])
        if page_name:
            name = page_name  # an event page is named by its title
        elif word or title_name is not None:
            # The programme tells a series event apart only when it is the event's: named in its sentence, or
            # in a sentence about this kind of event.
            city = g.get(city_id) if city_id and not online else None
            programme = cat.by_id.get(in_sentence[0]) if in_sentence else None
            at = s_start + (word.start() if word else 0)
            name = name_in_full(name, text, mentions(), at, city.name if city else None,
                                programme.name if programme else None, series())
        venue = detail_venue or sentence_venue or neighbour_venue(s_start, s_start + len(sentence))
        address = find_address(detail_place or "") or find_address(sentence)
        if address is None and city_id is not None:
            # An address elsewhere in the article counts when it lies in the event's city.
            address = next((a for a, where in article_addresses if where == city_id), None)
        record = EventRecord(name=name or sentence[:80].strip(), start_date=date, evidence=sentence.strip()[:500],
                                  end_date=end_date, start_time=times[0].start_time if times else None,
                                  end_time=times[0].end_time if times else None,
                                  city_id=None if online else city_id, is_online=online, venue=venue,
                                  address=address, event_type=event_type(name or ""),
                                  organiser=find_organiser(sentence) or article_organiser,
                                  programme_id=programme_id)
        known = events.setdefault(key, [])
        same = next((k for k, e in enumerate(known) if same_gathering(e.name, record.name)), None)
        if same is None:
            known.append(record)
            latest[:] = [(key, len(known) - 1)]
            if word is None and page_name is None:
                from_title.add(latest[0])
        else:
            # A later mention of the same gathering fills what the first left out; an event page's title, or
            # the event's own sentence, names it better than the article's title.
            first = known[same]
            latest[:] = [(key, same)]
            renamed = page_name or (record.name if (key, same) in from_title and word is not None else None)
            if renamed:
                from_title.discard((key, same))
            known[same] = dataclasses.replace(
                first, name=renamed or first.name, event_type=event_type(renamed) if renamed else first.event_type,
                venue=first.venue or record.venue, address=first.address or record.address,
                end_date=first.end_date or record.end_date,
                start_time=first.start_time or record.start_time,
                end_time=first.end_time or (record.end_time if first.start_time in (None, record.start_time) else None))

    sentence_spans = sentences(text)
    sentence_starts = [a for a, _b in sentence_spans]

    @functools.cache  # asked twice per event (its time, its venue)
    def neighbours(start: int, end: int) -> tuple[tuple[int, str], ...]:
        """(offset, text) of the sentence after the event's and of the one before, where they carry no date
        of their own: they still speak of this event ("Er beginnt um 9 Uhr im Haus der Wissenschaft.")."""
        k = bisect.bisect_right(sentence_starts, start) - 1
        out = []
        for n in (k + 1, k - 1):
            if 0 <= n < len(sentence_spans) and n != k:
                a, b = sentence_spans[n]
                if b - a <= _LONGEST_SENTENCE and not (a < end and b > start) and not find_dates(text[a:b], reference):
                    out.append((a, text[a:b]))
        return tuple(out)

    def neighbour_venue(start: int, end: int) -> str | None:
        return next((v for _a, sentence in neighbours(start, end) if (v := _venue_in(sentence))), None)

    @functools.cache
    def series() -> tuple[tuple[str, str], ...]:
        """(sentence, programme name) for each sentence of the article that names a catalogue programme."""
        out = []
        for pid, a, _b in article_wide()[0]:
            k = bisect.bisect_right(sentence_starts, a) - 1
            programme = cat.by_id.get(pid)
            if k >= 0 and programme is not None:
                out.append((text[slice(*sentence_spans[k])], programme.name))
        return tuple(out)

    @functools.cache
    def mentions() -> list[tuple[int, str]]:
        """(offset, name) of what event_name reads at every event word of the article (at most 200 words,
        in sentences of normal length): what name_in_full completes a name from."""
        out = []
        for a, b in sentence_spans:
            if b - a > _LONGEST_SENTENCE:
                continue
            for w in event_words(text[a:b]):
                if not in_venue_position(text[a:b], w):
                    out.append((a + w.start(), event_name(text[a:b], w)))
                if len(out) >= 200:
                    return out
        return out

    last_added: list[tuple[int, int]] = []  # the sentence (and clause) whose date was read last

    def extend_last(end: dt.date) -> None:
        if not latest:
            return
        key, k = latest[0]
        e = events[key][k]
        if e.start_date < end <= e.start_date + dt.timedelta(days=14) and (e.end_date is None or e.end_date < end):
            events[key][k] = dataclasses.replace(e, end_date=end)

    # One cheap pass marks where event words may stand; the exact pattern runs only in those sentences.
    stems = stem_positions(text)
    dates_read = 0
    for s_start, s_end in sentence_spans:
        sentence = text[s_start:s_end]
        lo = bisect.bisect_left(stems, s_start)
        has_stem = lo < len(stems) and stems[lo] < s_end
        overlong = len(sentence) > _LONGEST_SENTENCE  # read clause by clause below, its stems tell enough here
        words = event_words(sentence) if has_stem and not overlong else []
        if not (words or (overlong and has_stem)) and not (title_has_event and _AM_DATE.search(sentence)):
            continue  # no event word, no event: most sentences end here, before any date parsing
        for span, clause, at, clause_words in _dated_clauses(sentence, reference, words, overlong and has_stem):
            dates_read += 1
            if dates_read > _MAX_EVENT_DATES:
                break
            before = clause[:span.start]
            if last_added and last_added[0] == (s_start, at) and _ENDS.search(before):
                # "Es beginnt am 19. März … und endet am 20. März": the end of the event just read.
                extend_last(span.date)
                continue
            if _NOT_EVENT_BEFORE.search(before) or _DEADLINE_BEFORE.search(before[-80:]):
                continue
            if _DEADLINE_AFTER.match(clause[span.end:span.end + 60]):
                continue
            # "14.08.2025 — ..." opening a paragraph is the publication date.
            if not before.strip() and re.match(r"\s*[—–-]", clause[span.end:]):
                continue
            date, end_date = span.date, span.end_date
            if not span.has_year and reference is not None:
                date, end_date = _pick_year(date, end_date, reference, clause)
            last_added[:] = [(s_start, at)]
            if clause_words:
                # "auf der Messe Karlsruhe", "im Forum am Schloss": a building, when another word names the event.
                named = [w for w in clause_words if not in_venue_position(clause, w)]
                if named:
                    add(date, end_date, clause, s_start + at, s_start + at + span.start,
                        _word_for(clause, named, span.start))
                elif title_has_event:
                    add(date, end_date, clause, s_start + at, s_start + at + span.start, None)
            elif title_has_event and re.search(r"(^|\b)(Am|am|Vom|vom)\s*$", before[-12:]):
                add(date, end_date, clause, s_start + at, s_start + at + span.start, None)
        if dates_read > _MAX_EVENT_DATES:
            break
    # A details block ("Datum: 24. September 2025", "Veranstaltungsort: ...") describes the event itself.
    for k, v in details.items():
        if k.strip().casefold().rstrip(":") in DETAIL_KEYS["date"]:
            spans = find_dates(v, reference)
            if spans:
                sentence = f"{article.title}. {v}"
                date, end_date = spans[0].date, spans[0].end_date
                if not spans[0].has_year and reference is not None:
                    date, end_date = _pick_year(date, end_date, reference, sentence)
                add(date, end_date, sentence, 0, 0, title_word, page_name=page_event_name(article.title or ""))
    return [e for known in events.values() for e in known]
