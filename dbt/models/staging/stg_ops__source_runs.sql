-- One row per source and ingest run: what the crawl did and how healthy the extracted records looked.
with

source as (

    select * from {{ source('ops', 'source_runs') }}

),

renamed as (

    select
        run_id,
        source_id,
        cast(discovered as integer) as discovered,
        cast(fetched as integer) as fetched,
        cast(not_modified as integer) as not_modified,
        cast(articles as integer) as articles,
        cast(articles_new as integer) as articles_new,
        cast(articles_updated as integer) as articles_updated,
        cast(articles_unchanged as integer) as articles_unchanged,
        cast(errors as integer) as errors,
        cast(robots_refused as integer) as robots_refused,
        cast(failed as boolean) as failed,
        cast(share_title as double) as share_title,
        cast(share_date as double) as share_date,
        cast(share_body as double) as share_body,
        cast(share_entity as double) as share_entity,
        cast(healthy as boolean) as healthy,
        nullif(trim(health_reason), '') as health_reason,
        cast(finished_at as timestamp) as finished_at

    from source

)

select * from renamed
