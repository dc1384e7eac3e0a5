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
    extracted_at

from articles
