-- One row per (city, programme, role): a city's stated participation in a programme, read from articles that
-- name the programme with a role and mention the city (every city of such an article counts).
with

article_programmes as (

    select * from {{ ref('int_article_programmes') }}
    where role is not null

),

article_cities as (

    select * from {{ ref('int_article_cities') }}

),

articles as (

    select * from {{ ref('int_articles_deduplicated') }}

),

evidence as (

    select
        article_cities.city_id,
        article_programmes.programme_id,
        article_programmes.role,
        article_programmes.article_id,
        coalesce(articles.published_date, cast(articles.extracted_at as date)) as seen_date

    from article_programmes
    inner join article_cities on article_cities.article_id = article_programmes.article_id
    inner join articles on articles.article_id = article_programmes.article_id

)

select
    city_id,
    programme_id,
    role,
    min(seen_date) as first_seen,
    max(seen_date) as last_seen,
    arg_min(article_id, seen_date::varchar || article_id) as evidence_article_id,
    count(distinct article_id) as article_count

from evidence
group by city_id, programme_id, role
