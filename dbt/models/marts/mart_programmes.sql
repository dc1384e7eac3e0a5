-- One row per programme: the whole catalogue plus the programmes discovered in articles.
-- Named mart_programmes only because the seed already owns the node name "programmes"; it lands as marts.programmes.
{{ config(alias='programmes') }}
with

programmes as (

    select * from {{ ref('int_programmes') }}

),

article_programmes as (

    select * from {{ ref('int_article_programmes') }}

),

counts as (

    select programme_id, count(distinct article_id) as article_count
    from article_programmes
    group by programme_id

)

select
    programmes.programme_id,
    programmes.name,
    programmes.acronym,
    programmes.aliases,
    programmes.level,
    programmes.funder,
    programmes.start_year,
    programmes.end_year,
    programmes.url,
    programmes.is_discovered,
    coalesce(counts.article_count, 0) as article_count

from programmes
left join counts on counts.programme_id = programmes.programme_id
