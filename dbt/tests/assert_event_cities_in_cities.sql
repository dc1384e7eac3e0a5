-- Every event with a city points at a row of marts.cities (so a map can place it).
select events.event_id, events.city_id
from {{ ref('events') }} as events
left join {{ ref('cities') }} as cities on cities.city_id = events.city_id
where events.city_id is not null
  and cities.city_id is null
