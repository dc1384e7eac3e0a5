-- A view, not a table: it reads the run ledger, which changes on every run, even one that changes no
-- article (and then the pipeline skips the dbt build).
{{ config(materialized='view') }}
-- One row per source: as declared in sources.yml (or only seen in the data), with its article counts,
-- its last successful run, the health of its last run and how fresh its articles are.
with

declared as (

    select * from {{ ref('stg_raw__sources') }}

),

articles as (

    select * from {{ ref('int_articles_deduplicated') }}

),

pages as (

    select * from {{ ref('stg_raw__pages') }}

),

http_state as (

    select * from {{ ref('stg_ops__http_state') }}

),

fetch_errors as (

    select * from {{ ref('stg_ops__fetch_errors') }}

),

source_runs as (

    select * from {{ ref('stg_ops__source_runs') }}

),

-- A source removed from sources.yml keeps its row while the warehouse holds data of it.
source_ids as (

    select source_id from declared
    union
    select source_id from articles
    union
    select source_id from pages
    union
    select source_id from fetch_errors
    union
    select source_id from source_runs

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

    select source_id, count(*) as pages_archived
    from pages
    group by source_id

),

url_stats as (

    select source_id, count(*) as urls_known, max(last_fetched_at) as last_fetched_at
    from http_state
    group by source_id

),

error_stats as (

    select source_id, count(*) as fetch_errors, max(failed_at) as last_failed_at
    from fetch_errors
    group by source_id

),

run_stats as (

    select
        source_id,
        count(*) as runs,
        count(*) filter (where failed) as failed_runs,
        max(finished_at) filter (where not failed) as last_success_at,
        arg_max(run_id, finished_at) filter (where not failed) as last_success_run_id,
        arg_max(run_id, finished_at) as last_run_id

    from source_runs
    group by source_id

),

last_runs as (

    select source_runs.*
    from source_runs
    inner join run_stats
        on run_stats.source_id = source_runs.source_id
        and run_stats.last_run_id = source_runs.run_id

)

select
    source_ids.source_id,
    declared.name,
    declared.kind,
    declared.city,
    declared.licence,
    declared.terms_url,
    declared.entry_points,
    declared.source_id is not null as is_declared,
    coalesce(article_stats.articles, 0) as articles,
    coalesce(article_stats.relevant_articles, 0) as relevant_articles,
    article_stats.first_published,
    article_stats.last_published,
    article_stats.last_extracted_at,
    case
        when article_stats.last_extracted_at is null then null
        when article_stats.last_extracted_at < (now() at time zone 'UTC') - interval {{ var('freshness_error_days', 14) }} day then 'error'
        when article_stats.last_extracted_at < (now() at time zone 'UTC') - interval {{ var('freshness_warn_days', 2) }} day then 'warn'
        else 'pass'
    end as freshness_status,
    coalesce(page_stats.pages_archived, 0) as pages_archived,
    coalesce(url_stats.urls_known, 0) as urls_known,
    url_stats.last_fetched_at,
    coalesce(error_stats.fetch_errors, 0) as fetch_errors,
    error_stats.last_failed_at,
    coalesce(run_stats.runs, 0) as runs,
    coalesce(run_stats.failed_runs, 0) as failed_runs,
    run_stats.last_success_at,
    run_stats.last_success_run_id,
    last_runs.run_id as last_run_id,
    last_runs.finished_at as last_run_at,
    last_runs.failed as last_run_failed,
    last_runs.healthy,
    last_runs.health_reason,
    last_runs.share_title,
    last_runs.share_date,
    last_runs.share_body,
    last_runs.share_entity

from source_ids
left join declared on declared.source_id = source_ids.source_id
left join article_stats on article_stats.source_id = source_ids.source_id
left join page_stats on page_stats.source_id = source_ids.source_id
left join url_stats on url_stats.source_id = source_ids.source_id
left join error_stats on error_stats.source_id = source_ids.source_id
left join run_stats on run_stats.source_id = source_ids.source_id
left join last_runs on last_runs.source_id = source_ids.source_id
