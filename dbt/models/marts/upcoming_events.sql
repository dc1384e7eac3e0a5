{{ config(materialized='view') }}
-- One row per event that starts today or later; a view, so "today" is when it is read.
select *
from {{ ref('events') }}
where start_date >= current_date
