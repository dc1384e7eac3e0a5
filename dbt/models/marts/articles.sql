-- One row per article (duplicates by content merged; their URLs in duplicate_urls), relevant or not.
with

articles as (

    select * from {{ ref('int_articles_deduplicated') }}

)

select
    article_id,
    source_id,
    url,
    title,
    published_date,
    body_text,
    is_relevant,
    teaser,
    modified_date,
    author,
    language,
    relevance_score,
    relevance_terms,
    duplicate_urls,
    content_hash,
    extracted_at,
    -- Provenance: the archive record holding the raw page, and what extracted it.
    page_url,
    page_content_hash,
    fetch_run_id,
    extractor_version,
    run_id as extract_run_id

from articles
