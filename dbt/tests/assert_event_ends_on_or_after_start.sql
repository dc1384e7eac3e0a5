-- An event ends on or after the day (and, on a single day, the time) it starts.
select event_id, start_date, end_date, start_time, end_time
from {{ ref('events') }}
where end_date < start_date
   or (coalesce(end_date, start_date) = start_date and end_time < start_time)
