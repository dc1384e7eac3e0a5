-- One row per gathering: one event at one start date and place (a city, or online), however many articles
-- reported it and under whatever names; two gatherings at one place on one day are two rows
-- (int_events_deduplicated decides which reports are one gathering).
with

events as (

    select * from {{ ref('int_events_deduplicated') }}

),

cities as (

    select * from {{ ref('stg_raw__cities') }}

)

select
    events.event_id,
    events.name,
    events.start_date,
    events.end_date,
    events.start_time,
    events.end_time,
    events.city_id,
    events.venue,
    events.address,
    events.article_id,
    events.is_online,
    cities.name as city_name,
    events.evidence,
    events.source_id,
    events.report_count,
    events.event_type,
    events.organiser,
    events.programme_id

from events
left join cities on cities.city_id = events.city_id
