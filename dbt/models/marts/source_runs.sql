-- A view, not a table: it reads the run ledger, which changes on every run, even one that changes no
-- article (and then the pipeline skips the dbt build).
{{ config(materialized='view') }}
-- One row per source and ingest run: crawl counts and the health of the records extracted (trend charts).
with

source_runs as (

    select * from {{ ref('stg_ops__source_runs') }}

),

runs as (

    select * from {{ ref('stg_ops__runs') }}

)

select
    source_runs.run_id,
    source_runs.source_id,
    runs.started_at as run_started_at,
    source_runs.finished_at,
    source_runs.discovered,
    source_runs.fetched,
    source_runs.not_modified,
    source_runs.articles,
    source_runs.articles_new,
    source_runs.articles_updated,
    source_runs.articles_unchanged,
    source_runs.errors,
    source_runs.robots_refused,
    source_runs.failed,
    source_runs.share_title,
    source_runs.share_date,
    source_runs.share_body,
    source_runs.share_entity,
    source_runs.healthy,
    source_runs.health_reason

from source_runs
left join runs on runs.run_id = source_runs.run_id
