-- One row per raw article: the article_id that represents it in the marts. Pages with the same content
-- (same content_hash, e.g. one press release at two URLs) collapse onto one canonical article.
with

articles as (

    select * from {{ ref('stg_raw__articles') }}

),

keyed as (

    select
        article_id,
        url,
        published_date,
        -- An empty body hashes alike on unrelated pages (title-only stubs): those are never merged.
        case when body_text is null then 'article:' || article_id else content_hash end as dedup_key

    from articles

),

ranked as (

    select
        article_id,
        dedup_key,
        -- The earliest publication wins; then the shorter (more canonical) URL; then the URL itself,
        -- so the choice is stable across runs.
        row_number() over (
            partition by dedup_key
            order by published_date asc nulls last, length(url), url
        ) as rank_in_group

    from keyed

)

select
    ranked.article_id,
    canonical.article_id as canonical_article_id,
    ranked.article_id = canonical.article_id as is_canonical

from ranked
inner join ranked as canonical
    on canonical.dedup_key = ranked.dedup_key
    and canonical.rank_in_group = 1
