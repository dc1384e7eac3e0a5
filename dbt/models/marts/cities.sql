-- One row per city mentioned at least once, in an article or as the place of an event.
with

cities as (

    select * from {{ ref('stg_raw__cities') }}

),

states as (

    select * from {{ ref('states') }}

),

city_articles as (

    select * from {{ ref('int_city_articles') }}

),

city_programmes as (

    select * from {{ ref('int_city_programmes') }}

),

mention_stats as (

    select
        city_id,
        count(*) as article_count,
        min(published_date) as first_mentioned,
        max(published_date) as last_mentioned

    from city_articles
    group by city_id

),

programme_lists as (

    select city_id, list(distinct programme_id order by programme_id) as programme_ids
    from city_programmes
    -- Programmes the city takes part in: an article states its role; naming both is not enough.
    where is_stated
    group by city_id

)

select
    cities.city_id,
    cities.name,
    cities.country_code,
    cities.latitude,
    cities.longitude,
    states.state_name as state,
    cities.admin1_code,
    -- Not yet populated: GeoNames does not carry the AGS (see the docs block ags).
    cast(null as varchar) as ags,
    cities.population,
    mention_stats.article_count,
    mention_stats.first_mentioned,
    mention_stats.last_mentioned,
    coalesce(programme_lists.programme_ids, cast([] as varchar[])) as programme_ids

from cities
inner join mention_stats on mention_stats.city_id = cities.city_id
left join states
    on states.country_code = cities.country_code
    and states.admin1_code = cities.admin1_code
left join programme_lists on programme_lists.city_id = cities.city_id
