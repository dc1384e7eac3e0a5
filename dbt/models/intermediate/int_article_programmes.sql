-- One row per (canonical article, programme): catalogue and discovered programmes named in an article.
with

mentions as (

    select * from {{ ref('stg_raw__mentions') }}
    where entity_type = 'programme'

),

canonical_ids as (

    select * from {{ ref('int_article_canonical_ids') }}

),

programmes as (

    select * from {{ ref('int_programmes') }}

)

select
    canonical_ids.canonical_article_id as article_id,
    mentions.entity_id as programme_id,
    -- The canonical page's own text first; a role stated only on a duplicate page still counts.
    arg_min(mentions.role, [(not canonical_ids.is_canonical)::int, mentions.char_offset])
        filter (where mentions.role is not null) as role,
    arg_min(mentions.surface, [(not canonical_ids.is_canonical)::int, mentions.char_offset]) as surface,
    arg_min(mentions.char_offset, [(not canonical_ids.is_canonical)::int, mentions.char_offset]) as char_offset,
    max(mentions.mention_count) as mention_count

from mentions
inner join canonical_ids on canonical_ids.article_id = mentions.article_id
inner join programmes on programmes.programme_id = mentions.entity_id
group by canonical_ids.canonical_article_id, mentions.entity_id
