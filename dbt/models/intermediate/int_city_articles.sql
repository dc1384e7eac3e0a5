-- One row per (city, canonical article) that refers to the city: it mentions the city, or reports an event
-- there (every report counts, not just the one the deduplicated event keeps).
with

article_cities as (

    select * from {{ ref('int_article_cities') }}

),

event_reports as (

    select * from {{ ref('stg_raw__events') }}

),

canonical_ids as (

    select * from {{ ref('int_article_canonical_ids') }}

),

cities as (

    select * from {{ ref('stg_raw__cities') }}

),

articles as (

    select * from {{ ref('int_articles_deduplicated') }}

),

city_articles as (

    select article_cities.city_id, article_cities.article_id, true as is_mentioned
    from article_cities
    union all
    select event_reports.city_id, canonical_ids.canonical_article_id, false as is_mentioned
    from event_reports
    inner join canonical_ids on canonical_ids.article_id = event_reports.article_id
    inner join cities on cities.city_id = event_reports.city_id

)

select
    city_articles.city_id,
    city_articles.article_id,
    bool_or(city_articles.is_mentioned) as is_mentioned,
    articles.published_date,
    -- An article without a publication day counts on the day it was extracted.
    coalesce(articles.published_date, cast(articles.extracted_at as date)) as activity_date,
    articles.is_relevant

from city_articles
inner join articles on articles.article_id = city_articles.article_id
group by city_articles.city_id, city_articles.article_id, articles.published_date, articles.extracted_at,
    articles.is_relevant
