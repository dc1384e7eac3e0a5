-- One row per (canonical article, city): city mentions of the article and its duplicates, resolved to
-- gazetteer entries.
with

article_mentions as (

    select * from {{ ref('int_article_mentions') }}

),

canonical_ids as (

    select * from {{ ref('int_article_canonical_ids') }}

),

cities as (

    select * from {{ ref('stg_raw__cities') }}

),

mentions as (

    select article_mentions.article_id, unnest(article_mentions.city_mentions, recursive := true)
    from article_mentions

)

select
    canonical_ids.canonical_article_id as article_id,
    mentions.city_id,
    -- Spelling and offset from the canonical page's own text first.
    arg_min(mentions.surface, [(not canonical_ids.is_canonical)::int, mentions.char_offset]) as surface,
    arg_min(mentions.char_offset, [(not canonical_ids.is_canonical)::int, mentions.char_offset]) as char_offset,
    -- Duplicates of one article repeat (nearly) the same text: count the canonical page's mentions only.
    max(mentions.mention_count) as mention_count

from mentions
inner join canonical_ids on canonical_ids.article_id = mentions.article_id
inner join cities on cities.city_id = mentions.city_id
group by canonical_ids.canonical_article_id, mentions.city_id
