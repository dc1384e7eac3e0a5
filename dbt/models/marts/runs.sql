-- A view, not a table: it reads the run ledger, which changes on every run, even one that changes no
-- article (and then the pipeline skips the dbt build).
{{ config(materialized='view') }}
-- One row per ingest run, with its outcome and how many of its sources failed or looked unhealthy.
with

runs as (

    select * from {{ ref('stg_ops__runs') }}

),

source_runs as (

    select * from {{ ref('stg_ops__source_runs') }}

),

source_stats as (

    select
        run_id,
        count(*) as sources,
        count(*) filter (where not healthy) as sources_unhealthy,
        sum(discovered) as urls_discovered,
        sum(not_modified) as pages_not_modified,
        sum(robots_refused) as robots_refused

    from source_runs
    group by run_id

)

select
    runs.run_id,
    runs.flow,
    runs.started_at,
    runs.finished_at,
    runs.duration_seconds,
    runs.status,
    runs.sources_ok,
    runs.sources_failed,
    coalesce(source_stats.sources_unhealthy, 0) as sources_unhealthy,
    runs.pages_fetched,
    coalesce(source_stats.pages_not_modified, 0) as pages_not_modified,
    coalesce(source_stats.urls_discovered, 0) as urls_discovered,
    runs.articles_new,
    runs.articles_updated,
    runs.articles_unchanged,
    runs.errors,
    coalesce(source_stats.robots_refused, 0) as robots_refused

from runs
left join source_stats on source_stats.run_id = runs.run_id
