-- One row per (canonical article, city): city mentions resolved to gazetteer entries.
with

mentions as (

    select * from {{ ref('stg_raw__mentions') }}
    where entity_type = 'city'

),

canonical_ids as (

    select * from {{ ref('int_article_canonical_ids') }}

),

cities as (

    select * from {{ ref('stg_raw__cities') }}

)

select
    canonical_ids.canonical_article_id as article_id,
    mentions.entity_id as city_id,
    -- Spelling and offset from the canonical page's own text first.
    arg_min(mentions.surface, [(not canonical_ids.is_canonical)::int, mentions.char_offset]) as surface,
    arg_min(mentions.char_offset, [(not canonical_ids.is_canonical)::int, mentions.char_offset]) as char_offset,
    -- Duplicates of one article repeat the same text: count the canonical page's mentions only.
    max(mentions.mention_count) as mention_count

from mentions
inner join canonical_ids on canonical_ids.article_id = mentions.article_id
inner join cities on cities.city_id = mentions.entity_id
group by canonical_ids.canonical_article_id, mentions.entity_id
