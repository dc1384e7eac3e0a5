"""The fields of an event read from text: its kind, name, venue, address and organiser (pure functions)."""
from __future__ import annotations

import re

from scrapers import vocabulary
from scrapers.gazetteer import norm_key

__all__ = ["EVENT_TYPES", "EVENT_TYPES_FILE", "detail", "event_name", "event_type", "event_words", "find_address",
           "find_organiser", "sentences"]


def _event_words_pattern() -> re.Pattern[str]:
    compounds = vocabulary.alternation("event_words", "pattern", compound="yes")
    alone = vocabulary.alternation("event_words", "pattern", compound="no")
    return re.compile(r"(?<![^\W\d_])(?:[\w-]*?(?:" + compounds + r")|" + alone + r")(?:[a-zäöüß]*)(?![^\W\d_])")


_EVENT_WORDS = _event_words_pattern()
# Every stem of an event word, for a fast first pass over long texts (a superset of _EVENT_WORDS).
EVENT_STEMS = tuple(sorted({row["stem"] for row in vocabulary.rows("event_words")}))
# Compounds of "-tag" that name a weekday, a parliament or a date, never an event ("Digitaltag" is one).
# Weekdays and times of day end compounds too ("Samstagvormittag"); the rest only as the whole word
# ("Werktag", but "Netzwerktag" is an event).
_NOT_EVENT_TAG = re.compile(r"(?:(?:" + vocabulary.words("not_event_days", inside_a_word="yes") + r")|(?:^|-)(?:"
                            + vocabulary.words("not_event_days", inside_a_word="no") + r"))tag(?:e|es|en|s)?$",
                            re.IGNORECASE)


# What follows an event word inside a compound and makes it no event: a building, a room, a series, a fee
# ("Kongresszentrum", "Veranstaltungsort", "Konferenzreihe").
_NOT_EVENT_HEAD = re.compile(r"(?:s|-)?(?:" + vocabulary.words("not_event_heads") + r")", re.IGNORECASE)
# Event words that say an event took place but not which ("die Veranstaltung", "das Treffen").
_GENERIC = re.compile(r"(?:" + "|".join(sorted({row["stem"] for row in vocabulary.rows("event_words")
                                                 if row["generic"] == "yes"})) + r")(?:en|n|s|es)?", re.IGNORECASE)


def _names_an_event(word: str) -> bool:
    if _NOT_EVENT_TAG.search(word):
        return False
    low = word.lower()
    for stem in EVENT_STEMS:
        at = low.find(stem)
        if at != -1 and _NOT_EVENT_HEAD.match(low, at + len(stem)):
            return False
    return True


def event_words(text: str) -> list[re.Match[str]]:
    """The event words in `text`, without weekdays, other "-tag" compounds and compounds such as
    "Kongresszentrum" that name no event."""
    return [w for w in _event_word_matches(text) if _names_an_event(w.group(0))]


_WORD_OR_HYPHEN = re.compile(r"[\w-]")


def _event_word_matches(text: str) -> list[re.Match[str]]:
    """What _EVENT_WORDS.finditer(text) finds, tried only in the words around a stem.

    The pattern's open compound prefix makes the regex engine try every alternative at every offset of every
    word: most of a page's event-matching time. Every match contains a stem and starts at most a run of word
    characters and hyphens before it, so the same starts, in the same order, are tried there only.
    """
    low = text.lower()
    if len(low) != len(text):  # "İ" lower-cases to two characters: stem offsets would not fit the text
        return list(_EVENT_WORDS.finditer(text))
    found: list[re.Match[str]] = []
    end = 0  # finditer's matches do not overlap: none starts before the last one ended
    for at in _stem_positions_in(low):
        if at < end:
            continue
        start = at
        while start > end and _WORD_OR_HYPHEN.match(text, start - 1):
            start -= 1
        for begin in range(start, at + 1):
            if (word := _EVENT_WORDS.match(text, begin)) is not None:
                found.append(word)
                end = word.end()
                break
    return found


def page_event_name(title: str) -> str | None:
    """The name of the event an event page is about: its title, without a lead-in that names no event
    ("Jetzt anmelden: 8. Kongress …" → "8. Kongress …"; "Webinar: Urbane Daten" stays whole); None for a
    title that reads as a headline, without a colon or a dash, whose event word names the event instead."""
    title = " ".join(title.split())
    head, colon, tail = title.partition(": ")
    name = tail if colon and first_event_word(head) is None and first_event_word(tail) is not None else title
    if (not colon and " – " not in title) or _VERB_AFTER_NAME.search(name):
        return None  # a headline ("Regionalkonferenz in Konstanz setzt auf Kooperation"), not a name
    return name or None


def title_event_name(title: str, word: re.Match[str]) -> str:
    """The event a title names: a head before a colon made of capitalised words that ends in the event word
    is its name whole ("Smart Country Convention: Kommunen zeigen …"); else what event_name reads."""
    head, colon, _tail = title.partition(": ")
    if colon and word.end() <= len(head) and re.fullmatch(r"(?:[A-ZÄÖÜ0-9][\w.&-]*\s+)*", head[:word.start()]) and (
            not head[word.end():].strip() or re.fullmatch(r"\s+(?:19|20)\d\d", head[word.end():])):
        return head.strip()
    return event_name(title, word)


def in_venue_position(text: str, word: re.Match[str]) -> bool:
    """Whether an event word that is also a building ("Messe", "Forum") stands as the place of something:
    "auf der Messe Karlsruhe", "im Forum am Schloss"."""
    return bool(VENUE_HEADS.match(word.group(0))) and bool(
        re.search(r"\b(?:[Aa]uf|[Ii]n|[Aa]n)\s+(?:der|dem|den|die|das)\s+$|\b(?:[Ii]m|[Ii]ns)\s+$",
                  text[:word.start()][-12:]))


def same_gathering(a: str, b: str) -> bool:
    """Whether two names found for one day and place can mean one gathering: a generic or bare name, one
    name inside the other, one naming the other's kind ("Auftakt der Konferenz"), or mostly the same words.
    A workshop and a panel, or two workshops with different topics, are two gatherings."""
    wa, wb = _word_of(a), _word_of(b)
    if wa is None or wb is None or is_generic(wa.group(0)) or is_generic(wb.group(0)):
        return True
    # The kind: the vocabulary's, else the event word itself ("Preisverleihung" and "Exkursion" differ).
    kind_a, kind_b = (event_type(n) if event_type(n) != "other" else _singular(w.group(0)).lower()
                      for n, w in ((a, wa), (b, wb)))
    if kind_a != kind_b:
        return bool(re.search(re.escape(_singular(wb.group(0))), a, re.IGNORECASE)
                    or re.search(re.escape(_singular(wa.group(0))), b, re.IGNORECASE))
    ta, tb = _distinctive(a, wa), _distinctive(b, wb)
    if not ta or not tb or ta <= tb or tb <= ta:
        return True
    return len(ta & tb) / len(ta | tb) >= 0.5


def _distinctive(name: str, word: re.Match[str]) -> set[str]:
    """The words of a name beyond its event word, ordinal and small words."""
    rest = name[:word.start()] + " " + name[word.end():]
    return {w.casefold() for w in re.findall(r"[^\W\d_]{3,}", rest) if norm_key(w) not in _NAME_STOP}


def is_generic(word: str) -> bool:
    """Whether an event word says only that something took place ("Veranstaltung"), not what."""
    return bool(_GENERIC.fullmatch(word))


def first_event_word(text: str) -> re.Match[str] | None:
    words = event_words(text)
    return words[0] if words else None


def stem_positions(text: str) -> list[int]:
    """Sorted offsets of every event-word stem in `text` (str.find on the lower-cased text: fast on long texts)."""
    return _stem_positions_in(text.lower())


def _stem_positions_in(low: str) -> list[int]:
    out = []
    for stem in EVENT_STEMS:
        pos = low.find(stem)
        while pos != -1:
            out.append(pos)
            pos = low.find(stem, pos + 1)
    return sorted(out)


# "im Haus der Wissenschaft", "in die Stadthalle Bad Rappenau", "auf dem Gelände der Zeche": a place's name
# after a preposition of place, with its genitive or a town.
VENUE = re.compile(r"\b(?:[Ii]m|[Ii]ns|[Ii]n der|[Ii]n den|[Ii]n die|[Ii]n das|[Aa]uf dem|[Aa]uf der|[Aa]uf das)\s+"
                   r"((?:[A-ZÄÖÜ][\w.-]+)(?:\s(?:für|der|des|am|an der|zu|zur|zum)\s(?:[A-ZÄÖÜ][\w-]+)"
                   r"(?:\s[A-ZÄÖÜ][\w-]+)?|(?:\s(?:Bad|Sankt|St\.)?\s?[A-ZÄÖÜ][\w-]+(?=[\s.,;]|$)){0,2})?)")
VENUE_HEADS = re.compile(r"(" + vocabulary.alternation("venue_heads") + r")")
DETAIL_KEYS = {field: tuple(dict.fromkeys(vocabulary.entries("detail_keys", field=field)))
               for field in ("venue", "date", "time", "organiser")}

# The kinds of event, from the event word: one vocabulary with dbt (the seed dbt/seeds/event_types.csv, which
# says why each kind is there). First match wins, so compounds go before their heads; `other` has no pattern.
EVENT_TYPES_FILE = vocabulary.path_of("event_types")
EVENT_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (row["event_type"], re.compile(row["pattern"], re.IGNORECASE))
    for row in vocabulary.rows("event_types") if row["pattern"])
ABBREVIATIONS = frozenset(vocabulary.entries("abbreviations"))
# Words that open a sentence or a phrase but never an event's name.
_NAME_STOP = frozenset(norm_key(w) for w in vocabulary.entries("name_stop_words"))
# Words at which the genitive or prepositional tail of an event's name ends ("der Modellprojekte | in Kiel").
_NAME_END = vocabulary.words("name_end_words")
_VERB_AFTER_NAME = re.compile(r"\b[A-ZÄÖÜ][\w-]*(\s+)(?!(?:" + vocabulary.words("name_joiners")
                              + r")(?![\wäöüß]))[a-zäöüß]")
_STREET = vocabulary.words("street_words")
_STREET_NOUN = "|".join(sorted({w.capitalize() for w in vocabulary.entries("street_words") if w.isalpha()},
                               key=len, reverse=True))
_ADDRESS = re.compile(
    r"((?:Am|An der|An den|Auf der|Auf dem|Im|In der|Zum|Zur)\s[A-ZÄÖÜ][\wäöüß-]+\s\d+\s?[a-z]?"
    r"|(?:[A-ZÄÖÜ][\wäöüß.-]*[ -]){0,3}(?:[A-ZÄÖÜ][\wäöüß.-]*(?:" + _STREET + r")|(?:" + _STREET_NOUN + r")"
    r"(?:\s(?:der|des|am)\s[A-ZÄÖÜ][\wäöüß-]+)?)(?:\s+\d+\s?[a-z]?(?:\s?[-–]\s?\d+)?)?)"
    r",?\s+(\d{5})\s+((?:(?:" + vocabulary.words("place_name_prefixes") + r")\s)?[A-ZÄÖÜ][\wäöüß-]*"
    r"(?:/[A-ZÄÖÜ][\wäöüß]+)?(?:\s(?:\([^)]{2,20}\)|(?:an|am|im|in|ob|bei)\s(?:der\s)?[A-ZÄÖÜ][\wäöüß-]+))?)")
_ORGANISER = [
    re.compile(r"\bVeranstalter(?:in|innen)?\s*(?:ist|sind|war|waren|:)\s+(?P<o>[^.;\n]{3,120})"),
    re.compile(r"\b(?:[Vv]eranstaltet|[Oo]rganisiert|[Aa]usgerichtet)\s+(?:wird\s+(?:sie|er|es|das\s+\w+|die\s+\w+|"
               r"der\s+\w+)\s+|wurde\s+(?:sie|er|es|das\s+\w+|die\s+\w+|der\s+\w+)\s+|werden\s+|wurden\s+)?"
               r"(?:von|vom|durch)\s+(?P<o>[^.;\n]{3,120})"),
    re.compile(r"\b(?:Gastgeber(?:in)?|Ausrichter(?:in)?)\s+(?:ist|sind|war|waren)\s+(?P<o>[^.;\n]{3,120})"),
    re.compile(r"\bauf Einladung\s+(?P<o>(?:der|des|von)\s[^.;,\n]{3,100})"),
    re.compile(r"(?:^|[.!?]\s+|\n)(?P<o>(?:Die|Der|Das)\s[^.;,\n]{2,80}?)\s+(?:lädt|laden|lud|luden)\b[^.;\n]{0,200}?\bein\b"),
    re.compile(r"(?:^|[.!?]\s+|\n)(?P<o>(?:Die|Der|Das)\s[^.;,\n]{2,80}?)\s+(?:hatte|hatten|hat|haben)\s+"
               r"(?:[^.;\n]{0,60}\s)?eingeladen\b"),
    re.compile(r"\b(?:Die|Der|Das)\s+(?P<o>[^.;,\n]{2,80}?)\s+(?:hatte|hatten|hat|haben)\s+(?:dazu|hierzu)\s+eingeladen\b"),
]


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: split at full stops before a capital letter, at line breaks and at dashes after a date."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"[.!?](?=\s+[„\"A-ZÄÖÜ])|\n", text):
        before = re.search(r"(\S*)$", text[max(0, m.start() - 12):m.start()])
        word = before.group(1) if before else ""  # always a match, if only the empty one
        if m.group(0) != "\n" and (word[-1:].isdigit() or word.isupper() or word in ABBREVIATIONS):
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def event_name(sentence: str, word: re.Match[str]) -> str:
    """The event's name: the event word with an ordinal and name words before it, and a title, a genitive
    or capitalised name words after it ("24. Regionalkonferenz der Modellprojekte Smart Cities",
    "Smart Country Convention", "Forum Digitale Daseinsvorsorge")."""
    start, end = word.start(), word.end()
    # Capitalised words right before the event word belong to its name ("Smart Country Convention").
    for m in reversed(list(re.finditer(r"[A-ZÄÖÜ][\w.-]*\s+", sentence[max(0, start - 60):start]))):
        abs_start = max(0, start - 60) + m.start()
        if abs_start + len(m.group(0)) != start or norm_key(m.group(0).strip()) in _NAME_STOP:
            break
        if _sentence_start_of(sentence, abs_start) and not re.match(r"[A-ZÄÖÜ][\w-]*[A-ZÄÖÜ]|[A-ZÄÖÜ]+\b", m.group(0)):
            break  # a capital only because the sentence starts here
        start = abs_start
    ordinal = re.search(r"(\d{1,3}\.\s*)$", sentence[:start])
    if ordinal:
        start = ordinal.start()
    tail = sentence[end:]
    motto = re.match(r"\s*„[^“]{2,120}“", tail)
    if motto:  # a quoted motto right after the word is the rest of the name, commas and all
        return sentence[start:end + motto.end()].strip(" ,.–-")
    phrase = re.match(r"(\s+(?:der|des|zur|zum|für|über|zu|„)[^,;:()\n]*?)"
                      r"(?=\s+(?:" + _NAME_END + r")\b|[,;:()\n]|\.\s|\.$|$)", tail)
    if phrase and len(phrase.group(1)) < 90:
        # "der Modellprojekte Smart Cities | führte": a lower-case word after a capitalised one is a verb.
        verb = _VERB_AFTER_NAME.search(phrase.group(1))
        end += verb.start(1) if verb else phrase.end(1)
    else:
        # Capitalised words after a generic event word name it ("Forum Digitale Daseinsvorsorge").
        caps = re.match(r"(?:\s+(?!(?:Am|Im|In|Vom|Von|Bei|Beim|Ab|Um)\b)[A-ZÄÖÜ][\w-]+){1,4}", tail)
        if caps:
            end += caps.end()
    year = re.match(r"\s+(?:19|20)\d\d(?![\d.:])", sentence[end:])
    if year:  # the edition: "Smart City Forum 2025"
        end += year.end()
    quoted = re.match(r"\s*„[^“]{2,120}“", sentence[end:])
    if quoted:
        end += quoted.end()
    # "Internationale Konferenz zu | einem Empfang": a preposition the name stopped after is not part of it.
    return re.sub(r"\s+(?:der|des|zur|zum|für|über|zu)$", "", sentence[start:end].strip(" ,.–-"))


_ORDINAL = r"(\d{1,3})\.\s*"
# "die den Titel „…“ trug", "unter dem Motto „…“", "Thema: „…“": the title an event is given in the text.
_TITLE_CUE = r"\b(?:Titel|Motto|Leitthema|Thema|Überschrift)\b[^„“.!?\n]{0,25}„([^“\n]{2,150})“"


def _singular(word: str) -> str:
    """"Regionalkonferenzen" → "Regionalkonferenz", "Workshops" → "Workshop": the event, not the series
    ("Auftakttreffen" stays: without its ending it would end in no event word)."""
    for ending in ("en", "n", "s", "e"):
        base = word[:-len(ending)]
        if word.endswith(ending) and base.lower().endswith(EVENT_STEMS) and first_event_word(base) is not None:
            return base
    return word


def _is_singular(word: str) -> bool:
    """Whether an event word names one gathering ("Konferenz"), not a series ("Konferenzen") or a genitive."""
    return _singular(word) == word


def _word_of(name: str) -> re.Match[str] | None:
    words = event_words(name)
    return words[-1] if words else None


def _head_word(name: str) -> str:
    """The last event word of a name known to have one."""
    word = _word_of(name)
    if word is None:
        raise ValueError(f"no event word in {name!r}")
    return word.group(0)


# Over the C901 bound: the naming rules of the docstring, in order.
def name_in_full(name: str, text: str, mentions: list[tuple[int, str]], at: int = 0, city: str | None = None,  # noqa: C901
                 programme: str | None = None, series: tuple[tuple[str, str], ...] = ()) -> str:
    """The event's own name, completed from the rest of the article: a generic word ("die Veranstaltung")
    takes the gathering mentioned just before it; a bare word takes the fullest name another mention gives
    it, with the ordinal ("15. Regionalkonferenz") and the title ("die den Titel „…“ trug", "Sie steht unter
    dem Motto „…“") the article gives it. A name that stays a bare common noun is told apart by the event's
    city and programme, as a calendar needs: "Modellprojekte Smart Cities: Regionalkonferenz in Kiel".

    `mentions` are (offset, name) of what event_name reads at every event word of `text`; `at` is where the
    event's own word stands; `programme` is the one named with the event, and `series` holds (sentence,
    programme) for every sentence naming a programme: a programme whose sentence speaks of this kind of
    event ("eine Konferenzreihe, die die Modellprojekte Smart Cities ausrichten") runs it.
    """
    word = _word_of(name)
    if word is None:
        return name
    head = word.group(0)
    singular = [(o, m) for o, m in mentions if (w := _word_of(m)) is not None and not is_generic(w.group(0))
                and _is_singular(w.group(0))]
    if is_generic(head) and singular:
        # "Die Veranstaltung am 4. Mai": the gathering named in the sentences just before, else the article's
        # most frequent kind.
        before = [m for o, m in singular if at - 600 <= o < at]
        if before:
            name = before[-1]
        else:
            kinds: dict[str, int] = {}
            for _o, m in singular:
                kinds[event_type(m)] = kinds.get(event_type(m), 0) + 1
            kind = max(kinds, key=lambda k: (kinds[k], k != "other"))
            name = max((_head_word(m) for _o, m in singular if event_type(m) == kind), key=len)
        head = _head_word(name)
    elif is_generic(head):
        named = [_singular(w.group(0)) for _o, m in mentions if (w := _word_of(m)) and not is_generic(w.group(0))]
        if named:  # only "Die Regionalkonferenzen sind …": the kind of this one
            name = head = max(named, key=len)
    if len(name.split()) == 1:
        stem = _singular(head).lower()
        name_word = _word_of(name)
        kind = name_word.group(0).lower() if name_word else stem

        def names_it(mention: str) -> bool:
            # "Zukunftsforum" for "Forums"; "Kongress „Smart Region 2025“" for "Smart-Region-Kongress".
            w = _word_of(mention)
            if w is None or len(mention) >= 150 or not _is_singular(w.group(0)):
                return False  # a plural speaks of a series, not of this gathering
            other = w.group(0).lower()
            return other.endswith(stem) or (kind.endswith(other) and (" " in mention.strip() or "„" in mention))

        fuller = [m for _o, m in mentions if len(m) > len(name) and names_it(m)]
        name = max(fuller, key=len) if fuller else _singular(name)
    word = _word_of(name)
    stem = _singular(word.group(0)) if word else name
    if not re.match(_ORDINAL, name):
        ordinal = re.search(_ORDINAL + rf"{re.escape(stem)}(?![\w-])", text)
        if ordinal and name.startswith(stem):
            name = f"{ordinal.group(1)}. {name}"
    if "„" not in name:
        titled = (re.search(rf"(?<![\w-]){re.escape(stem)}\w*\b[^.!?\n]{{0,120}}?" + _TITLE_CUE, text)
                  or re.match(r"[^\n]{0,300}?" + _TITLE_CUE, text[at:]))
        if titled:
            name = f"{name} „{titled.group(1)}“"
    if city and not name.endswith(city) and re.search(re.escape(name) + r"\s+in\s+" + re.escape(city) + r"\b", text):
        name = f"{name} in {city}"  # "Regionalkonferenz der Modellprojekte in Kiel", as the text says
    word = _word_of(name)
    if word and word.group(0).endswith("s") and not _is_singular(word.group(0)):
        # "des Innovationsforums „…“": the name is in the nominative
        name = name[:word.start()] + _singular(word.group(0)) + name[word.end():]
    # A one-word name of its own ("Stadtdaten-Hackathon", "DigitalHub") needs no help; a common noun does.
    common_noun = re.fullmatch(r"(?:\d{1,3}\.\s*)?[A-ZÄÖÜ][a-zäöüß]+", name)
    if common_noun and programme is None:
        kind = event_type(name)
        programme = next((p for sentence, p in series if kind != "other" and any(
            event_type(w.group(0)) == kind for w in event_words(sentence))), None)
    if common_noun and (" " not in name or programme):
        if city:
            name = f"{name} in {city}"
        if programme:
            name = f"{programme}: {name}"
    return name


def _sentence_start_of(sentence: str, pos: int) -> bool:
    before = sentence[:pos].rstrip(" „\"'(")
    return not before or before[-1] in ".!?:\n–—•-"


def event_type(name: str) -> str:
    """The kind of event a name describes (konferenz, kongress, forum, workshop, webinar, ...), else "other"."""
    for kind, rx in EVENT_TYPES:
        if rx.search(name):
            return kind
    return "other"


def detail(details: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for k, v in details.items():
        if k.strip().casefold().rstrip(":") in keys and v and v.strip():
            return v.strip()
    return None


_STRAY_BEFORE_STREET = re.compile(r"^(?:" + "|".join(k.capitalize() for k in DETAIL_KEYS["venue"]) + r"|Im|In|Bei)\s+"
                                  r"(?=[A-ZÄÖÜ]\S*(?:" + _STREET + r")\b)")


def addresses(text: str) -> list[tuple[str, str]]:
    """(address, place) of every postal address in `text`, read around each five-digit postcode."""
    out = []
    for pc in re.finditer(r"(?<![\d.,])\d{5}(?![\d.,])", text or ""):
        # Only the window around a postcode is matched: the street pattern is costly on long texts.
        lo = max(0, pc.start() - 120)
        for m in _ADDRESS.finditer(text[lo:pc.end() + 60]):
            if m.start(2) + lo == pc.start():
                # "Am Kurpark 2" is a street; "Ort Hafenstraße 2" or "Im Hafenstraße …" carry a stray word.
                street = _STRAY_BEFORE_STREET.sub("", m.group(1).strip())
                out.append((f"{street}, {m.group(2)} {m.group(3).strip()}", m.group(3).strip()))
                break
    return out


def find_address(text: str) -> str | None:
    """The first postal address in `text`: street (and number), postcode and place."""
    found = addresses(text)
    return found[0][0] if found else None


_ORGANISER_CUE = re.compile(r"Veranstalt|[Oo]rganisiert|[Aa]usgerichtet|Gastgeber|Ausrichter|Einladung|lädt|laden|"
                            r"lud|eingeladen")


def find_organiser(text: str | list[str]) -> str | None:
    """Who organises an event, as the text says it ("Veranstalter: …", "organisiert von …", "… lädt … ein").

    `text` may be a list of sentences: the clearest wording wins anywhere in it ("Veranstalter ist …"
    before "Gastgeberin ist …"), else the first sentence that has one.
    """
    chunks = [text] if isinstance(text, str) else text
    chunks = [c for c in chunks if c and _ORGANISER_CUE.search(c)]
    for rx in _ORGANISER:
        for chunk in chunks:
            m = rx.search(chunk)
            if not m:
                continue
            org = re.split(r"\s+(?:gemeinsam mit|zusammen mit|in Kooperation mit|im Auftrag|im Rahmen|statt\b|ein\b|"
                           r"zu\b|zur\b|zum\b|am\s+\d)|,\s+(?=[a-zäöü\d])", m.group("o"))[0]
            org = re.sub(r"^(?:der|die|das|dem|den|von|vom)\s+", "", org.strip(" ,:–-"), flags=re.IGNORECASE)
            if len(org) >= 3 and org[0].isupper():
                return org
    return None


