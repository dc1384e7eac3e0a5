-- One row per event = (start date, city or 'online'): the same event reported by several articles is kept
-- once, with the earliest-published report as its article; missing details are filled from later reports.
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
        programmes.programme_id as resolved_programme_id

    from events
    inner join canonical_ids on canonical_ids.article_id = events.article_id
    inner join articles on articles.article_id = canonical_ids.canonical_article_id
    left join cities on cities.city_id = events.city_id
    left join programmes on programmes.programme_id = events.programme_id
    left join event_types on event_types.event_type = events.event_type

),

ranked as (

    select
        *,
        row_number() over (
            partition by start_date, location_key
            order by published_date asc nulls last, canonical_article_id, event_index
        ) as report_rank

    from resolved

)

select
    substr(md5(cast(start_date as varchar) || '|' || location_key), 1, 16) as event_id,
    start_date,
    location_key,
    arg_min(name, report_rank) as name,
    arg_min(end_date, report_rank) filter (where end_date is not null) as end_date,
    arg_min(start_time, report_rank) filter (where start_time is not null) as start_time,
    arg_min(end_time, report_rank) filter (where end_time is not null) as end_time,
    resolved_city_id as city_id,
    bool_or(is_online) as is_online,
    arg_min(venue, report_rank) filter (where venue is not null) as venue,
    arg_min(address, report_rank) filter (where address is not null) as address,
    arg_min(resolved_event_type, report_rank) filter (where resolved_event_type is not null) as event_type,
    arg_min(organiser, report_rank) filter (where organiser is not null) as organiser,
    arg_min(resolved_programme_id, report_rank) filter (where resolved_programme_id is not null) as programme_id,
    arg_min(evidence, report_rank) as evidence,
    arg_min(canonical_article_id, report_rank) as article_id,
    arg_min(source_id, report_rank) as source_id,
    count(distinct canonical_article_id) as report_count

from ranked
group by start_date, location_key, resolved_city_id
