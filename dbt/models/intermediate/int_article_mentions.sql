-- One row per raw article with the cities and programmes it mentions (lists, empty when none); incremental.
-- The grain is the article, not the mention, on purpose: raw deletes and rewrites the mentions of a
-- re-extracted article, and a delete+insert keyed by article_id must also clear an article that lost all its
-- mentions, which only works when that article still has a row in the batch.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='article_id',
        on_schema_change='fail'
    )
}}
with

articles as (

    select article_id, extracted_at from {{ ref('stg_raw__articles') }}
    {% if is_incremental() %}
    where extracted_at >= (select coalesce(max(extracted_at), '-infinity'::timestamp) from {{ this }})
    {% endif %}

),

mentions as (

    select * from {{ ref('stg_raw__mentions') }}

)

-- list_sort over a plain list, not list(... order by ...): an ordered aggregate keeps every row of the
-- batch in memory, which in a first build of 20,000 articles ran out of the build's memory limit.
select
    articles.article_id,
    articles.extracted_at,
    coalesce(
        list_sort(list(
            {'city_id': mentions.entity_id, 'surface': mentions.surface, 'char_offset': mentions.char_offset,
             'mention_count': mentions.mention_count}
        ) filter (where mentions.entity_type = 'city')),
        cast([] as struct(city_id varchar, surface varchar, char_offset integer, mention_count integer)[])
    ) as city_mentions,
    coalesce(
        list_sort(list(
            {'programme_id': mentions.entity_id, 'surface': mentions.surface, 'char_offset': mentions.char_offset,
             'mention_count': mentions.mention_count}
        ) filter (where mentions.entity_type = 'programme')),
        cast([] as struct(programme_id varchar, surface varchar, char_offset integer, mention_count integer)[])
    ) as programme_mentions

from articles
left join mentions on mentions.article_id = articles.article_id
group by articles.article_id, articles.extracted_at
