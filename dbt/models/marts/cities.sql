-- One row per city mentioned at least once, in an article or as the place of an event.
with

cities as (

    select * from {{ ref('stg_raw__cities') }}

),

states as (

    select * from {{ ref('states') }}

),

article_cities as (

    select * from {{ ref('int_article_cities') }}

),

articles as (

    select * from {{ ref('int_articles_deduplicated') }}

),

-- Every report of an event counts as a mention, not just the one the deduplicated event keeps.
event_reports as (

    select * from {{ ref('stg_raw__events') }}

),

canonical_ids as (

    select * from {{ ref('int_article_canonical_ids') }}

),

city_programmes as (

    select * from {{ ref('int_city_programmes') }}

),

mentioning_articles as (

    select article_cities.city_id, article_cities.article_id
    from article_cities
    union
    select event_reports.city_id, canonical_ids.canonical_article_id
    from event_reports
    inner join canonical_ids on canonical_ids.article_id = event_reports.article_id
    where event_reports.city_id is not null

),

mention_stats as (

    select
        mentioning_articles.city_id,
        count(distinct mentioning_articles.article_id) as article_count,
        min(articles.published_date) as first_mentioned,
        max(articles.published_date) as last_mentioned

    from mentioning_articles
    inner join articles on articles.article_id = mentioning_articles.article_id
    group by mentioning_articles.city_id

),

programme_lists as (

    select city_id, list(distinct programme_id order by programme_id) as programme_ids
    from city_programmes
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
