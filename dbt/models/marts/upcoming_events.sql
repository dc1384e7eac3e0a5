{{ config(materialized='view') }}
-- One row per gathering (as in marts.events) not yet over: it starts today or later, or started earlier and runs until today or later.
-- A view, so "today" is when it is read (the var as_of_date pins it for tests and back-dated reports).
with

events as (

    select * from {{ ref('events') }}

),

today as (

    select cast({{ var('as_of_date', 'current_date') }} as date) as as_of_date

)

select
    events.*,
    events.start_date < today.as_of_date as is_ongoing,
    cast(greatest(date_diff('day', today.as_of_date, events.start_date), 0) as integer) as days_until_start

from events
cross join today
where coalesce(events.end_date, events.start_date) >= today.as_of_date
