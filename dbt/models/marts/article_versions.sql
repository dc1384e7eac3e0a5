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

ordered as (

    select
        versions.*,
        articles.content_hash = versions.content_hash as is_current,
        articles.extracted_at as last_extracted_at,
        row_number() over (
            partition by versions.article_id order by versions.first_seen_at, versions.content_hash
        ) as version_number,
        lead(versions.first_seen_at) over (
            partition by versions.article_id order by versions.first_seen_at, versions.content_hash
        ) as next_seen_at,
        canonical_ids.canonical_article_id

    from versions
    inner join articles on articles.article_id = versions.article_id
    inner join canonical_ids on canonical_ids.article_id = versions.article_id

)

select
    substr(md5(article_id || '|' || content_hash), 1, 16) as version_id,
    canonical_article_id as article_id,
    article_id as page_article_id,
    cast(version_number as integer) as version_number,
    content_hash,
    url,
    title,
    teaser,
    body_text,
    published_date,
    modified_date,
    page_content_hash,
    first_seen_at as valid_from,
    -- The current version is open-ended. A page that returned to an earlier text (A, B, A) keeps one row
    -- per text: the older text is current again, and B ended at the latest by the last extraction.
    case
        when is_current then null
        else coalesce(next_seen_at, last_extracted_at)
    end as valid_to,
    is_current,
    run_id as first_seen_run_id

from ordered
