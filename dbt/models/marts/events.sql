-- One row per event (start date and city, or online), however many articles reported it.
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
