"""Decide whether an article is about smart cities, digital or climate-neutral urban development."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["Relevance", "classify", "THRESHOLD", "TERMS", "CUES"]


@dataclass(frozen=True)
class Relevance:
    """The verdict, its score and the terms that produced it (for explaining the verdict).

    terms lists the labels that moved the score, largest contribution first; labels of negative cues
    (topics a city newsroom also covers: sport, road works, strikes ...) carry a leading "-".
    """

    is_relevant: bool
    score: float
    terms: tuple[str, ...]


# (label, pattern, weight), matched ANYWHERE in the lowercased text, so that German compounds
# count: "sensor" finds "Bodensensoren" and "Füllstandssensor", "daten" finds "Stadtdatenportal".
# A pattern anchors with \b only where a short stem would otherwise hit unrelated words.
# Weights: 3 = the term alone makes an article relevant when it is in the title or repeated;
# 2 = vocabulary of the field; 1 or less = words that only count together with others
# (a library's "digitale Medien" or a festival "App" must not suffice).
TERMS: tuple[tuple[str, str, float], ...] = (
    # Smart city, programmes and networks of the field
    ("smart city", r"smart[\s-]?cit(y|ies)"
                   r"|smarte[nrs]?[\s.-]+(stadt|städte|region|kommune|quartier|land|dorf|dörfer)"
                   r"|smart[\s-]?(region|country|village|district)|\bmpsc\b", 3.0),
    ("smart", r"\bsmart(e[nmrs]?)?\b", 2.0),
    ("intelligente stadt", r"intelligente[nr]?\s+(stadt|städte|region)|intelligent\s+cit|netzerocities"
                           r"|eu-mission|missionslabel|missionsstädte|mission-städte", 3.0),
    ("digitalstadt", r"digital(isierungs)?strategie|digitalstadt|digitalste\b"
                     r"|digitale[nrs]?\s+(stadt|städte|kommune|verwaltung|region|modellregion|dörfer|dorf)"
                     r"|digitale[nr]?\s+daseinsvorsorge", 3.0),
    ("digitaler zwilling", r"digitale[rns]?\s+(zwilling|abbild)|stadtmodell|\bdigital twin", 3.0),
    ("digitalisierung", r"digitalisier", 2.0),
    ("digital-einrichtung", r"\bdigital[\s-]?(coach|botschafter|amt|tag|gipfel|beirat|agentur|lots|dezernat|forum"
                            r"|konferenz|offensive|werkstatt|labor|zentrum|ministerium|programm|projekt|cluster)", 2.0),
    ("digital", r"\bdigital(e[nmrs]?)?\b", 1.0),
    ("hackathon", r"hackathon|\bcodeweek|barcamp", 3.0),
    ("reallabor", r"reallabor|experimentierr[aä]um|testfeld|living\s+lab|stadtlabor|innovationslabor"
                  r"|zukunftslabor", 2.5),
    ("zukunftsstadt", r"zukunftsstadt|städte?\s+der\s+zukunft|zukunftsquartier|\burban", 1.0),
    ("technik", r"drohne|roboter|kamera|virtual reality|augmented reality|\bvr-|3d-", 1.0),
    ("innovation", r"innovation|innovativ", 0.7),
    ("modellvorhaben", r"modellprojekt|modellvorhaben|pilotprojekt|pilotversuch|testbetrieb|erprob", 1.0),
    # Data, sensors, networks, IT
    ("datenplattform", r"daten(plattform|portal|raum|räume|strategie|allianz|labor|kompetenz|sätze|satz\b)"
                       r"|daten(drehscheibe|hub|infrastruktur)"
                       r"|stadtdaten|open[\s-]?data|offene[nr]?\s+daten|geoportal|geodaten|dashboard", 3.0),
    ("daten", r"(?<!kandi)(?<!sol)(?<!eck)daten", 1.0),
    ("echtzeit", r"echtzeit|in real time|live-daten", 1.5),
    ("schnittstelle", r"schnittstelle|\bapi\b|\bapis\b", 1.0),
    ("sensoren", r"sensor|bewegungsmelder|messfühler|messnetz|messstation|zählstelle|zählgerät|füllstand", 2.0),
    ("internet der dinge", r"internet\s+der\s+dinge|\biot\b|lorawan|funknetz|smart\s+meter"
                           r"|intelligente[nr]?\s+(strom|zähler|messsystem|ampel|straßenbeleuchtung|laterne)"
                           r"|digitale[sn]?\s+messsystem", 3.0),
    ("vernetzt", r"vernetz", 1.0),
    ("künstliche intelligenz", r"künstliche[rn]?\s+intelligenz|\bki\b|\bki-|chatbot|algorithm"
                               r"|maschinelles lernen", 1.5),
    ("it", r"\bcloud|registermodernisierung|fachverfahren|rechenzentr|software|it-sicherheit"
           r"|cybersicherheit|informationssicherheit", 1.0),
    ("digitale infrastruktur", r"glasfaser|breitband|gigabit|\b5g\b|wlan|hotspot|freifunk", 1.5),
    ("app", r"\bapps?\b|-apps?\b|smartphone|\bhandy", 0.5),
    ("plattform", r"plattform|portal", 0.7),
    ("online", r"\bonline", 0.5),
    # Digital administration and participation
    ("e-government", r"e-government|onlinezugang|\bozg\b|verwaltungsdigitalisierung|e-akte"
                     r"|elektronische[nr]?\s+akte|bürgerkonto|servicekonto|bundid|bürgerportal"
                     r"|serviceportal|online-?dienst|online-?service|online-?antrag|online-?formular"
                     r"|onlinefunktion|online-funktion|papierlos|medienbruch"
                     r"|online\s+(beantrag|erledig|einreich|abwickel)|im\s+netz\s+erledig"
                     r"|digital\s+(beantrag|einreich)|videoberatung|videogespräch|mängelmelder"
                     r"|schadensmelder|meldeplattform|meldeportal|stadt-?app|bürger-?app|verwaltungsportal"
                     r"|verwaltungsmodernisierung|verwaltungsleistung|e-rechnung|e-payment|epaybl", 2.5),
    ("online-verfahren", r"online-?termin|termine?\s+(\w+\s+){0,4}online|online\s+bezahl|digital\s+bezahl"
                         r"|per\s+(app|handy|smartphone)|handyparken|hochlad|hochgeladen|elektronisch"
                         r"|internetbasiert|über\s+das\s+internet|von\s+zu\s+hause|behördengang"
                         r"|ratsinformationssystem|livestream", 1.0),
    ("beteiligung", r"(digitale|online)[rn]?[\s-]+beteiligung|beteiligungsplattform|beteiligungsportal"
                    r"|bürgerhaushalt|bürgerbeteiligung|beteiligungsformat", 1.5),
    # Climate and energy
    ("klimaneutral", r"klimaneutral|treibhausgasneutral|co2-neutral|netto-null|net[\s-]zero"
                     r"|klimaneutralität", 3.0),
    ("klimaschutz", r"klimaschutz|klimaanpassung|klimafolgen|klimawandel|klimaresilien|klimabündnis"
                    r"|klima-bündnis|klimaziel|klimaplan|kommunalrichtlinie", 2.5),
    ("klima", r"(?<!betriebs)klima(?!anlage|tisier|ti[sz]ch)", 1.0),
    ("klimaanpassung", r"hitzeschutz|hitzeaktionsplan|hitzeinsel|schwammstadt|entsiegel|begrünung|begrünt"
                       r"|gründach|regenwasser|versicker|starkregen|trinkbrunnen|stadtgrün|stadtbäume"
                       r"|stadtbaum|kaltluft|frischluft|hochwasserschutz|hochwasservorsorge"
                       r"|überflutungsvorsorge|hitze(plan|schutz|vorsorge|welle|tage|minderung)"
                       r"|kühle[nr]?\s+orte|verschattung|beschattung", 1.5),
    ("grün", r"grünfläche|bewässerung|baumpflanz|pflanzaktion", 0.7),
    ("monitoring", r"monitoring|messwert|messdaten|messgerät|frühwarn|warnsystem|neigungsmess|dehnungs", 1.0),
    ("umwelt", r"luftreinhalt|luftqualität|feinstaub|stickoxid|stickstoffdioxid|lärmaktionsplan"
               r"|kreislaufwirtschaft|zero\s+waste|nachhaltigkeitsstrateg|agenda\s+2030|\bsdgs?\b", 1.5),
    ("energiewende", r"energiewende|wärmewende|wärmeplan|erneuerbar|ökostrom|grünstrom|energieautark"
                     r"|plusenergie|bürgerenergie|energiegenossenschaft|dekarbonis|mieterstrom"
                     r"|energiegemeinschaft|kohleausstieg", 2.5),
    ("solar", r"photovoltaik|solar|sonnenstrom|sonnenenergie|kollektor|pv-anlage|\bpv\b|balkonkraftwerk", 2.0),
    ("windkraft", r"windkraft|windstrom|windpark|windrad|windräder|windenergie", 2.0),
    ("wärmenetz", r"wärmenetz|fernwärme|nahwärme|abwärme|abwasserwärme|flusswärme|wärmepumpe|geotherm"
                  r"|erdwärme|erdsonde|solarthermie|wärmetauscher|wärmerückgewinnung|heizzentrale|heizwerk"
                  r"|biomasse|hackschnitzel", 2.0),
    ("wasserstoff", r"wasserstoff|brennstoffzelle|biogas|faulgas|blockheizkraftwerk|\bbhkw", 1.5),
    ("energieeffizienz", r"energieeffizien|energieverbrauch|energiemanagement|energieberatung|energiespar"
                         r"|energetisch|energiebedarf|stromverbrauch|weniger energie|sanierungsmanagement"
                         r"|(strom|batterie|wärme|energie)speicher|batteriepark|großbatterie|stromnetz"
                         r"|umspannwerk|netzausbau|dämmung|gedämmt|heizungstausch|heizungsgesetz"
                         r"|gebäudeenergie|passivhaus|effizienzhaus", 2.0),
    ("led", r"\bled\b", 1.0),
    ("energie", r"energie", 0.7),
    ("emissionen", r"emission|\bco2|co₂|treibhausgas|kohlendioxid|fossil", 1.5),
    ("nachhaltigkeit", r"nachhaltig|umweltschutz|umweltdaten|umweltamt|ressourcenschon", 0.7),
    # Mobility transition
    ("mobilitätswende", r"mobilitätswende|verkehrswende|antriebswende", 3.0),
    ("e-mobilität", r"elektromobil|e-mobil|elektroauto|e-auto|elektrofahrzeug|elektrobus|elektrobusse"
                    r"|\be-bus|batterieelektrisch|ladesäul|ladepunkt|ladestation|ladeinfrastruktur"
                    r"|ladepark|schnelllade|wallbox|e-dienstwagen|e-lastenr", 2.5),
    ("sharing", r"sharing|leihr[aä]d|lastenr[aä]d|e-scooter|e-roller|mobilstation|mobilitätsstation"
                r"|mobilitätsplattform|mobilitätsangebot|rufbus|on-demand|ridepooling|mitfahr"
                r"|bedarfsgesteuert|bedarfsverkehr|anrufsammeltaxi|virtuelle[nr]?\s+halte", 2.0),
    ("logistik", r"paketstation|mikrodepot|city-?logistik|lieferverkehr|letzte[nr]?\s+meile", 1.5),
    ("autoarm", r"autofrei|autoarm|verkehrsberuhig|emissionsarm|emissionsfrei", 1.5),
    ("autonomes fahren", r"autonome[nrs]?\s+(fahr|bus|klein|shuttle|fahrzeug|verkehr)|fahrerlos"
                         r"|automatisierte[nrs]?\s+(fahr|nahverkehr|verkehr|bus)|selbstfahrend", 3.0),
    ("verkehrsdaten", r"verkehrsdaten|mobilitätsdaten|verkehrsrechner|verkehrssteuerung|verkehrslenkung"
                      r"|verkehrsmanagement|mobilitätsdatenpunkt|parkleitsystem|parkraummanagement"
                      r"|handyparken|parksuchverkehr|ampelsteuerung|ampelschaltung|grüne\s+welle"
                      r"|vorrangschaltung|bevorrechtigung|lichtsignalanlage"
                      r"|(parkplatz|stellplatz|parkhaus)belegung|belegung\s+(der|ihrer|von)\s+park"
                      r"|freie[rn]?\s+(stellpl|parkpl)|fahrgastinformation", 2.0),
    ("ticket digital", r"(e|digitale[sn]?|handy|app)[\s-]?ticket|check-in|luftlinientarif", 1.5),
    ("radverkehr", r"radverkehr|radweg|radschnell|fahrradstraße|radnetz|radstation|fahrradparkhaus"
                   r"|radabstell|fahrradabstell|pedelec|e-bike", 1.0),
    ("nahverkehr", r"nahverkehr|öpnv|\bövp?n?v", 0.5),
    ("mobilität", r"mobilität", 0.7),
    # Urban development and EU funding of the field
    ("stadtentwicklung", r"stadtentwicklung|städtebau|quartiersentwicklung|stadtplanung|stadtsanierung", 1.5),
    ("quartier", r"quartier", 0.7),
    ("strukturwandel", r"strukturwandel|daseinsvorsorge", 1.0),
    ("eu-förderung", r"horizon\s+(europe|2020)|horizont\s+europa|eu-projekt|\befre\b|just\s+transition"
                     r"|urbact|intelligent\s+cities|\bicc\b|\bmfund\b|\bcivitas\b", 1.5),
    ("interreg", r"interreg", 0.5),
)

# Negative cues: the other topics of a city newsroom. They subtract, so that an incidental "App" in a strike
# notice or an LED floodlight on a football pitch does not tip the verdict, while an article whose topic is
# a smart-city one (strong terms, in the title or repeated) stays relevant despite a "Sperrung" or a "Konzert".
CUES: tuple[tuple[str, str, float], ...] = (
    ("sport", r"sportler|sportplakette|sportverwaltung|meisterschaft|meisterinnen|turnier|spieltag"
              r"|\bliga\b|fußball|handball|basketball|volleyball|leichtathlet|stadtlauf|volkslauf|marathon"
              r"|kunstrasen|sportplatz|sportanlage|spielfeld|mannschaft|aufstieg|pokal|\bsportverein"
              r"|saisonspiel", -1.5),
    ("kultur", r"konzert|theater|\boper\b|musical|kabarett|ausstellung|museum|lesung|\bchor|orchester"
               r"|galerie|premiere|festival|kulturbüro|parkbühne|orgel|kleinkunst", -1.5),
    ("freizeit", r"spielplatz|freibad|hallenbad|schwimmbad|badesaison|minigolf|kinderfest|ferienprogramm", -1.5),
    ("gedenken", r"gedenk|stolperstein|kranzniederlegung|volkstrauertag", -1.0),
    ("personal", r"ausbildungsplatz|azubi|auszubildende|stellenangebot|stellenausschreibung", -1.0),
    ("fest", r"stadtfest|volksfest|weihnachtsmarkt|kirmes|karneval|fasching|rosenmontag|schützenfest"
             r"|festumzug|feuerwerk|bürgerfest|flohmarkt|trödelmarkt|wochenmarkt|festakt|jubiläum|\bgala\b"
             r"|familienfest|sommerfest|festzelt|(?<!steht )(?<!stehen )(?<!legt )(?<!legen )\bfest\b", -1.5),
    ("baustelle", r"baustelle|bauarbeiten|bauabschnitt|sperrung|gesperrt|umleitung|umgeleitet|fahrbahn"
                  r"|kanalbau|kanalarbeiten|einbahnstraße|deckschicht|leitungsarbeiten|gleisarbeiten"
                  r"|bahnübergang", -1.5),
    ("streik", r"streik|gewerkschaft|ver\.di|tarifkonflikt|tarifverhandlung|ausstand|arbeitskampf", -2.5),
    ("polizei", r"polizei|feuerwehr|einsatzkräfte|unfall|einbruch|diebstahl|festgenommen|zeugen"
                r"|brandursache|verletzt|rettungsdienst", -1.5),
    ("bildung", r"bibliothek|bücherei|vorlese|\bkitas?\b|kita-|kindertagesstätte|kindergarten"
                r"|ferienbetreuung|musikschule|volkshochschule|einschulung|schuljahr|girls.?day|boys.?day"
                r"|praktik", -1.5),
    ("wahl", r"wahllokal|briefwahl|stichwahl|kommunalwahl|bundestagswahl|landtagswahl|europawahl"
             r"|wahlbenachrichtigung|wahlgang|oberbürgermeisterwahl|landratswahl|wahlhelfer", -2.0),
    ("gesundheit", r"impf|arztpraxis|hausarzt|ärztin|krankenhaus|klinik|pflegestützpunkt"
                   r"|pflegeversicherung|blutspende|gesundheitsamt|demenz", -1.5),
    ("tourismus", r"touris|stadtführung|gästeführ|urlaub|sehenswürdig|übernachtung", -1.0),
    ("tiere", r"tierheim|katze|\bhund|storch|störche|tierschutz|\bzoo\b|tierpark", -1.5),
    ("wetter", r"glatteis|winterdienst|sturmtief|\bsturm\b|gewitter|schneefall|hitzewarnung"
               r"|unwetterwarnung", -1.5),
    ("finanzen", r"haushaltsentwurf|haushaltsplan|haushaltssatzung|doppelhaushalt|kämmer|hebesatz"
                 r"|grundsteuer|gewerbesteuer|hundesteuer|kreisumlage|(?<!park)gebühren|defizit"
                 r"|straßenausbaubeitr", -1.5),
    ("ehrung", r"ehrenamtspreis|ehrennadel|ehrung|ehren\b|geburtstag|ruhestand|nachruf|beigeordnete"
               r"|amtseinführung|vereidigt", -1.0),
    ("partnerschaft", r"partnerstadt|städtepartnerschaft|schwesterstadt|europatag", -1.0),
    ("abfuhr", r"müllabfuhr|abfallkalender|sperrmüll|gelbe[rn]?\s+s[aä]ck", -1.0),
)

_META = set("\\.^$*+?{}[]()|")


def _alternatives(pattern: str) -> list[str]:
    """Split a pattern at its top-level "|" (outside groups and character classes)."""
    parts, depth, in_class, escaped, current = [], 0, False, False, []
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


_LEAD = re.compile(r"(\\b|\(\?<![^)]*\))*")


def _literal_first(alternative: str) -> str:
    """Move a leading \\b or negative lookbehind behind the literal that follows it.

    The same match, but the pattern now starts with a literal, which lets re skip ahead to the
    candidates instead of trying the pattern at every position of the text.
    """
    lead = _LEAD.match(alternative).group(0)  # type: ignore[union-attr]
    rest = alternative[len(lead):]
    literal = rest[:next((i for i, ch in enumerate(rest) if ch in _META), len(rest))]
    if not lead or not literal:
        return alternative
    checks = "".join(f"(?<!{inner}{literal})" for inner in re.findall(r"\(\?<!([^)]*)\)", lead))
    if "\\b" in lead:
        checks += f"(?<!\\w{literal})"
    return literal + checks + rest[len(literal):]


_Compiled = tuple[str, tuple[str, ...], tuple[re.Pattern[str], ...], float]


def _compile(label: str, pattern: str, weight: float) -> _Compiled:
    """Plain stems are counted with str.count; the other alternatives are compiled one by one.

    Python's re tries every alternative at every position, which made the full term list cost about
    25 ms on a 5 KB body; substring counting and patterns that start with a literal keep a call at a
    few milliseconds.
    """
    alternatives = _alternatives(pattern.lower())
    stems = [a for a in alternatives if not _META & set(a)]
    # A stem that contains another stem of the same label would count the same place twice.
    stems = [s for s in stems if not any(o != s and o in s for o in stems)]
    rest = tuple(re.compile(_literal_first(a)) for a in alternatives if _META & set(a))
    return label, tuple(stems), rest, weight


_COMPILED = tuple(_compile(label, pattern, weight) for label, pattern, weight in TERMS + CUES)
_NEGATIVE = {label for label, *_ in CUES}
# About one strong term in the title, or a strong term plus field vocabulary in the body, or a lot of
# field vocabulary; negative cues raise the bar for articles on other topics.
THRESHOLD = 2.5
TITLE_FACTOR = 2.0


def _hits(text: str) -> dict[str, int]:
    text = text.lower()
    found: dict[str, int] = {}
    for label, stems, patterns, _weight in _COMPILED:
        count = sum(text.count(stem) for stem in stems) + sum(len(rx.findall(text)) for rx in patterns)
        if count:
            found[label] = count
    return found


def classify(title: str, body_text: str) -> Relevance:
    """Score the title and body against the weighted terms and the negative cues.

    Each label counts its weight once plus a diminishing bonus for repeats (1 + log2 of the count),
    so one incidental word cannot decide but a topic that runs through the text does. Title hits count
    TITLE_FACTOR times. The verdict is score >= THRESHOLD.
    """
    title_hits, body_hits = _hits(title or ""), _hits(body_text or "")
    contributions: dict[str, float] = {}
    for label, _stems, _rx, weight in _COMPILED:
        part = 0.0
        if label in title_hits:
            part += TITLE_FACTOR * weight
        if label in body_hits:
            part += weight * (1.0 + math.log2(body_hits[label]))
        if part:
            contributions[label] = part
    score = round(float(sum(contributions.values())), 2)
    ranked = sorted(contributions, key=lambda lab: -abs(contributions[lab]))
    terms = tuple(f"-{lab}" if lab in _NEGATIVE else lab for lab in ranked)
    return Relevance(is_relevant=score >= THRESHOLD, score=score, terms=terms)
