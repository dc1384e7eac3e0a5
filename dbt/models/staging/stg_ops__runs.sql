-- One row per ingest run.
with

source as (

    select * from {{ source('ops', 'runs') }}

),

renamed as (

    select
        run_id,
        flow,
        cast(started_at as timestamp) as started_at,
        cast(finished_at as timestamp) as finished_at,
        lower(status) as status,
        sources_ok,
        sources_failed,
        pages_fetched,
        articles_new,
        articles_updated,
        articles_unchanged,
        errors,
        date_diff('millisecond', started_at, finished_at) / 1000.0 as duration_seconds

    from source

)

select * from renamed
