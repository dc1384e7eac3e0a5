-- One row per (canonical article, programme): catalogue and discovered programmes named in an article.
with

article_mentions as (

    select * from {{ ref('int_article_mentions') }}

),

canonical_ids as (

    select * from {{ ref('int_article_canonical_ids') }}

),

programmes as (

    select * from {{ ref('int_programmes') }}

),

mentions as (

    select article_mentions.article_id, unnest(article_mentions.programme_mentions, recursive := true)
    from article_mentions

)

select
    canonical_ids.canonical_article_id as article_id,
    mentions.programme_id,
    -- Spelling and offset from the canonical page's own text first.
    arg_min(mentions.surface, [(not canonical_ids.is_canonical)::int, mentions.char_offset]) as surface,
    arg_min(mentions.char_offset, [(not canonical_ids.is_canonical)::int, mentions.char_offset]) as char_offset,
    max(mentions.mention_count) as mention_count

from mentions
inner join canonical_ids on canonical_ids.article_id = mentions.article_id
inner join programmes on programmes.programme_id = mentions.programme_id
group by canonical_ids.canonical_article_id, mentions.programme_id
