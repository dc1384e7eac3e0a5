-- One row per source seen, in fetched pages, articles or fetch errors.
with

pages as (

    select * from {{ ref('stg_raw__pages') }}

),

articles as (

    select * from {{ ref('int_articles_deduplicated') }}

),

fetch_errors as (

    select * from {{ ref('stg_ops__fetch_errors') }}

),

source_ids as (

    select source_id from pages
    union
    select source_id from articles
    union
    select source_id from fetch_errors

),

article_stats as (

    select
        source_id,
        count(*) as articles,
        count(*) filter (where is_relevant) as relevant_articles,
        min(published_date) as first_published,
        max(published_date) as last_published,
        max(extracted_at) as last_extracted_at

    from articles
    group by source_id

),

page_stats as (

    select source_id, count(*) as pages_fetched, max(fetched_at) as last_fetched_at
    from pages
    group by source_id

),

error_stats as (

    select source_id, count(*) as fetch_errors, max(failed_at) as last_failed_at
    from fetch_errors
    group by source_id

)

select
    source_ids.source_id,
    coalesce(article_stats.articles, 0) as articles,
    coalesce(article_stats.relevant_articles, 0) as relevant_articles,
    article_stats.first_published,
    article_stats.last_published,
    article_stats.last_extracted_at,
    coalesce(page_stats.pages_fetched, 0) as pages_fetched,
    page_stats.last_fetched_at,
    coalesce(error_stats.fetch_errors, 0) as fetch_errors,
    error_stats.last_failed_at

from source_ids
left join article_stats on article_stats.source_id = source_ids.source_id
left join page_stats on page_stats.source_id = source_ids.source_id
left join error_stats on error_stats.source_id = source_ids.source_id
