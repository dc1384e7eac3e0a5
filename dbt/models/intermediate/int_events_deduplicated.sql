-- One row per gathering: the event reports of one start date and place (city or 'online') whose names are alike
-- are one event, however many articles reported it and however they spelled it; two gatherings there on that
-- day (a morning workshop, an evening panel) are two. The earliest-published report is its article; the most
-- informative name names it; missing details are filled from the other reports.
--
-- Names are compared as sets of words: lower case, umlauts spelt out, cut at anything but letters and digits,
-- without articles and prepositions, without the words of the place ('online' for online events) and the year
-- of the start date (already the key: "Digitaltag Siegen 2025" in Siegen in 2025 is "Digitaltag") and without
-- generic nouns ("Veranstaltung").
-- Two words match when equal, when one is the head of the other compound ("konferenz", "regionalkonferenz"; 5
-- letters at least) or an inflection of it (at most 2 more letters: "verwaltung", "verwaltungen"). Two names
-- are alike when they share an edition number and another word ("7. MPSC-Kongress", "7. Kongress der …"), when
-- every word of one matches a word of the other, or when more than 2/3 of all their words
-- match (for exact matches: word Jaccard above 0.5, so "Workshop Open Data" and "Workshop Open Government"
-- stay apart). Clustering is greedy, not transitive: the distinct names of a day and place are ranked by
-- informativeness (more words, longer, earlier reported); a name alike to no better name heads a gathering,
-- any other joins the best head it is alike to. A report without words of its own ("die Veranstaltung") joins
-- a gathering of its own article if there is one, else the earliest-reported gathering there that day; with no
-- named gathering there, the reports without words are one gathering.
{%- set name_stop_words = [
    'der', 'die', 'das', 'des', 'den', 'dem', 'ein', 'eine', 'einer', 'eines', 'einem', 'einen', 'und', 'oder',
    'zu', 'zur', 'zum', 'fuer', 'im', 'in', 'am', 'an', 'auf', 'mit', 'von', 'vom', 'bei', 'beim', 'ueber', 'aus',
    'nach', 'the', 'of', 'and', 'for', 'on', 'to'
] %}
{#- Nouns that say there is an event but not which: a name made of nothing else is no name. #}
{%- set generic_event_words = ['veranstaltung', 'veranstaltungen', 'event', 'events', 'termin', 'termine', 'treffen'] %}
{#- Only the first this many distinct names of a day and place can head a gathering, so that a calendar dump
    with thousands of names on one day costs a bounded number of comparisons per name, not all pairs. #}
{%- set max_heads = 64 %}
{#- The words of a text (TEXT stands for the column): lower case, umlauts spelt out, accents dropped, cut at
    all but letters and digits. #}
{%- set words_of_text -%}
list_filter(
            string_split(regexp_replace(strip_accents(replace(replace(replace(replace(lower(TEXT),
                'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), 'ß', 'ss')), '[^\p{L}\p{N}]+', ' ', 'g'), ' '),
            lambda word: word <> ''
        )
{%- endset %}
{#- Two words (the lambda parameters `word` and `other`) match: equal, one the head of the other compound, or
    one an inflection of the other. #}
{%- set words_match -%}
word = other
            or (least(length(word), length(other)) >= 5 and (suffix(word, other) or suffix(other, word)))
            or (least(length(word), length(other)) >= 4 and abs(length(word) - length(other)) <= 2
                and (starts_with(word, other) or starts_with(other, word)))
{%- endset %}
with

events as (

    select * from {{ ref('stg_raw__events') }}

),

canonical_ids as (

    select * from {{ ref('int_article_canonical_ids') }}

),

articles as (

    select * from {{ ref('int_articles_deduplicated') }}

),

cities as (

    select * from {{ ref('stg_raw__cities') }}

),

programmes as (

    select * from {{ ref('int_programmes') }}

),

event_types as (

    -- The one vocabulary of event kinds, which the extractor reads too (scrapers/event_fields.py).
    select event_type from {{ ref('event_types') }}

),

resolved as (

    select
        events.*,
        canonical_ids.canonical_article_id,
        articles.published_date,
        articles.source_id,
        -- A city id missing from the gazetteer cannot be shown on a map: treat it as unknown.
        cities.city_id as resolved_city_id,
        coalesce(cities.city_id, 'online') as location_key,
        -- A kind outside the vocabulary (an older extractor's) is still an event: 'other' keeps it countable.
        case
            when event_types.event_type is not null then events.event_type
            when events.event_type is not null then 'other'
        end as resolved_event_type,
        -- Only a programme the marts know (catalogue or discovered) can be linked.
        programmes.programme_id as resolved_programme_id,
        {{ words_of_text | replace('TEXT', 'events.name') }} as raw_name_words,
        case
            when cities.city_id is null then ['online']
            else {{ words_of_text | replace('TEXT', 'cities.name') }}
        end as place_words

    from events
    inner join canonical_ids on canonical_ids.article_id = events.article_id
    inner join articles on articles.article_id = canonical_ids.canonical_article_id
    left join cities on cities.city_id = events.city_id
    left join programmes on programmes.programme_id = events.programme_id
    left join event_types on event_types.event_type = events.event_type

),

reports as (

    select
        * exclude (raw_name_words, place_words),
        row_number() over (
            partition by start_date, location_key
            order by published_date asc nulls last, canonical_article_id, event_index, article_id
        ) as report_rank,
        -- The words that tell this gathering from another one of the same day and place (sorted, distinct).
        coalesce(list_sort(list_distinct(list_filter(
            raw_name_words,
            lambda word: not list_contains({{ name_stop_words }}, word)
                and not list_contains({{ generic_event_words }}, word)
                and not list_contains(place_words, word)
                and word <> cast(year(start_date) as varchar)
        ))), []) as name_words

    from resolved

),

names as (

    -- The distinct names of each day and place, most informative first.
    select
        start_date,
        location_key,
        name_words,
        row_number() over (
            partition by start_date, location_key
            order by len(name_words) desc, length(array_to_string(name_words, ' ')) desc, min(report_rank)
        ) as name_rank

    from reports
    where len(name_words) > 0
    group by start_date, location_key, name_words

),

name_pairs as (

    -- Each name against every better one (up to max_heads): how many words of each match a word of the other.
    select
        worse.start_date,
        worse.location_key,
        worse.name_rank,
        better.name_rank as better_rank,
        len(worse.name_words) as worse_words,
        len(better.name_words) as better_words,
        len(list_filter(worse.name_words, lambda word: len(list_filter(better.name_words, lambda other:
            {{ words_match }})) > 0)) as worse_matched,
        len(list_filter(better.name_words, lambda word: len(list_filter(worse.name_words, lambda other:
            {{ words_match }})) > 0)) as better_matched,
        -- "7. MPSC-Kongress" and "7. Kongress der Modellprojekte Smart Cities": the same edition number
        len(list_intersect(
            list_filter(worse.name_words, lambda word: regexp_full_match(word, '[0-9]{1,3}')),
            list_filter(better.name_words, lambda word: regexp_full_match(word, '[0-9]{1,3}'))
        )) > 0 as same_edition

    from names as worse
    inner join names as better
        on better.start_date = worse.start_date
        and better.location_key = worse.location_key
        and better.name_rank < worse.name_rank
    where better.name_rank <= {{ max_heads }}

),

alike as (

    select start_date, location_key, name_rank, better_rank
    from name_pairs
    where worse_matched = worse_words
        or better_matched = better_words
        or 3 * (worse_matched + better_matched) > 2 * (worse_words + better_words)
        -- the same edition of the same kind: the number and at least one more word match
        or (same_edition and worse_matched >= 2)

),

heads as (

    -- A name alike to no better name heads a gathering.
    select names.start_date, names.location_key, names.name_rank
    from names
    where not exists (
        select 1 from alike
        where alike.start_date = names.start_date
            and alike.location_key = names.location_key
            and alike.name_rank = names.name_rank
    )

),

first_head as (

    select alike.start_date, alike.location_key, alike.name_rank, min(alike.better_rank) as head_rank
    from alike
    inner join heads
        on heads.start_date = alike.start_date
        and heads.location_key = alike.location_key
        and heads.name_rank = alike.better_rank
    group by alike.start_date, alike.location_key, alike.name_rank

),

first_alike as (

    select start_date, location_key, name_rank, min(better_rank) as better_rank
    from alike
    group by start_date, location_key, name_rank

),

name_heads as (

    -- Its own rank for a head; else the first head it is alike to; else (alike only to names that joined a
    -- head it is not alike to) the head of the first name it is alike to; else itself.
    select
        names.start_date,
        names.location_key,
        names.name_words,
        coalesce(direct.head_rank, hop.head_rank, names.name_rank) as head_rank

    from names
    left join first_head as direct
        on direct.start_date = names.start_date
        and direct.location_key = names.location_key
        and direct.name_rank = names.name_rank
    left join first_alike
        on first_alike.start_date = names.start_date
        and first_alike.location_key = names.location_key
        and first_alike.name_rank = names.name_rank
    left join first_head as hop
        on hop.start_date = names.start_date
        and hop.location_key = names.location_key
        and hop.name_rank = first_alike.better_rank

),

named_reports as (

    select reports.*, name_heads.head_rank
    from reports
    inner join name_heads
        on name_heads.start_date = reports.start_date
        and name_heads.location_key = reports.location_key
        and name_heads.name_words = reports.name_words

),

article_heads as (

    select start_date, location_key, canonical_article_id, min(head_rank) as head_rank
    from named_reports
    group by start_date, location_key, canonical_article_id

),

earliest_heads as (

    select start_date, location_key, arg_min(head_rank, report_rank) as head_rank
    from named_reports
    group by start_date, location_key

),

unnamed_reports as (

    -- Without a named gathering that day there, the unnamed reports are one gathering (head 0).
    select reports.*, coalesce(article_heads.head_rank, earliest_heads.head_rank, 0) as head_rank
    from reports
    left join article_heads
        on article_heads.start_date = reports.start_date
        and article_heads.location_key = reports.location_key
        and article_heads.canonical_article_id = reports.canonical_article_id
    left join earliest_heads
        on earliest_heads.start_date = reports.start_date
        and earliest_heads.location_key = reports.location_key
    where len(reports.name_words) = 0

),

gathered as (

    select * from named_reports
    union all by name
    select * from unnamed_reports

)

select
    -- The gathering with the day's earliest report keeps the key of the old (day, place) grain, so an event
    -- reported alone keeps its id; any other gathering there adds the words of its earliest named report.
    substr(md5(
        cast(start_date as varchar) || '|' || location_key
        || case
            when min(report_rank) = 1 then ''
            else '|' || arg_min(array_to_string(name_words, ' '), report_rank) filter (where len(name_words) > 0)
        end
    ), 1, 16) as event_id,
    start_date,
    location_key,
    -- The most informative name: most words of its own, then longest, then earliest; a generic one only
    -- when no report names the gathering.
    coalesce(
        arg_min(name, [-len(name_words), -length(name), report_rank]) filter (where len(name_words) > 0),
        arg_min(name, report_rank)
    ) as name,
    arg_min(end_date, report_rank) filter (where end_date >= start_date) as end_date,
    -- Start and end time are the pair of one report, the earliest that gives a start: taken from two reports
    -- that disagree ("ab 14 Uhr", "9 bis 12 Uhr") they could cross. An end time alone counts where no report
    -- gives a start.
    (arg_min({'start_time': start_time, 'end_time': end_time}, report_rank)
        filter (where start_time is not null)).start_time as start_time,
    coalesce(
        (arg_min({'start_time': start_time, 'end_time': end_time}, report_rank)
            filter (where start_time is not null)).end_time,
        case when count(start_time) = 0 then arg_min(end_time, report_rank) filter (where end_time is not null) end
    ) as end_time,
    resolved_city_id as city_id,
    bool_or(is_online) as is_online,
    arg_min(venue, report_rank) filter (where venue is not null) as venue,
    arg_min(address, report_rank) filter (where address is not null) as address,
    -- A known kind from any report beats 'other' (what a generic report like "die Veranstaltung" is).
    coalesce(
        arg_min(resolved_event_type, report_rank) filter (where resolved_event_type <> 'other'),
        arg_min(resolved_event_type, report_rank) filter (where resolved_event_type is not null)
    ) as event_type,
    arg_min(organiser, report_rank) filter (where organiser is not null) as organiser,
    arg_min(resolved_programme_id, report_rank) filter (where resolved_programme_id is not null) as programme_id,
    arg_min(evidence, report_rank) as evidence,
    arg_min(canonical_article_id, report_rank) as article_id,
    arg_min(source_id, report_rank) as source_id,
    count(distinct canonical_article_id) as report_count

from gathered
group by start_date, location_key, resolved_city_id, head_rank
