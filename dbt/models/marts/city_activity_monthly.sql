-- One row per city and calendar month with any activity: articles referring to the city (as marts.cities
-- counts them), events starting there, and programmes named in those articles.
with

city_article_days as (

    select * from {{ ref('int_city_articles') }}

),

article_programmes as (

    select * from {{ ref('int_article_programmes') }}

),

events as (

    select * from {{ ref('int_events_deduplicated') }}

),

cities as (

    select * from {{ ref('cities') }}

),

city_articles as (

    select city_id, cast(date_trunc('month', activity_date) as date) as month, article_id, is_relevant
    from city_article_days

),

article_stats as (

    select
        city_id,
        month,
        count(distinct article_id) as articles,
        count(distinct article_id) filter (where is_relevant) as relevant_articles

    from city_articles
    group by city_id, month

),

programme_stats as (

    select
        city_articles.city_id,
        city_articles.month,
        count(distinct article_programmes.programme_id) as programmes_named,
        list(distinct article_programmes.programme_id order by article_programmes.programme_id) as programme_ids

    from city_articles
    inner join article_programmes on article_programmes.article_id = city_articles.article_id
    group by city_articles.city_id, city_articles.month

),

event_stats as (

    select
        city_id,
        cast(date_trunc('month', start_date) as date) as month,
        count(*) as events

    from events
    where city_id is not null
    group by city_id, cast(date_trunc('month', start_date) as date)

),

months as (

    select city_id, month from article_stats
    union
    select city_id, month from event_stats

)

select
    months.city_id,
    months.month,
    cities.name as city_name,
    cities.state,
    coalesce(article_stats.articles, 0) as articles,
    coalesce(article_stats.relevant_articles, 0) as relevant_articles,
    coalesce(event_stats.events, 0) as events,
    coalesce(programme_stats.programmes_named, 0) as programmes_named,
    coalesce(programme_stats.programme_ids, cast([] as varchar[])) as programme_ids

from months
inner join cities on cities.city_id = months.city_id
left join article_stats on article_stats.city_id = months.city_id and article_stats.month = months.month
left join event_stats on event_stats.city_id = months.city_id and event_stats.month = months.month
left join programme_stats on programme_stats.city_id = months.city_id and programme_stats.month = months.month
