-- One row per version of an article page: each distinct extracted content, valid from when it was first
-- seen until the next version was.
with

versions as (

    select * from {{ ref('stg_raw__article_versions') }}

),

articles as (

    select * from {{ ref('int_articles') }}

),

canonical_ids as (

    select * from {{ ref('int_article_canonical_ids') }}

),

-- The window runs over the keys only and the texts join afterwards: a window keeps every column it carries in
-- memory, which for the texts grew with the warehouse. It reads the staging view itself, as a second use of
-- the versions CTE would make DuckDB materialise that, texts and all.
ordered as (

    select
        article_id,
        content_hash,
        row_number() over (
            partition by article_id order by first_seen_at, content_hash
        ) as version_number,
        lead(first_seen_at) over (
            partition by article_id order by first_seen_at, content_hash
        ) as next_seen_at

    from {{ ref('stg_raw__article_versions') }}

)

select
    substr(md5(versions.article_id || '|' || versions.content_hash), 1, 16) as version_id,
    canonical_ids.canonical_article_id as article_id,
    versions.article_id as page_article_id,
    cast(ordered.version_number as integer) as version_number,
    versions.content_hash,
    versions.url,
    versions.title,
    versions.teaser,
    versions.body_text,
    versions.published_date,
    versions.modified_date,
    versions.page_content_hash,
    versions.first_seen_at as valid_from,
    -- The current version is open-ended. A page that returned to an earlier text (A, B, A) keeps one row
    -- per text: the older text is current again, and B ended at the latest by the last extraction.
    case
        when articles.content_hash = versions.content_hash then null
        else coalesce(ordered.next_seen_at, articles.extracted_at)
    end as valid_to,
    articles.content_hash = versions.content_hash as is_current,
    versions.run_id as first_seen_run_id,
    versions.extractor_version

from versions
inner join ordered
    on ordered.article_id = versions.article_id
    and ordered.content_hash = versions.content_hash
inner join articles on articles.article_id = versions.article_id
inner join canonical_ids on canonical_ids.article_id = versions.article_id
