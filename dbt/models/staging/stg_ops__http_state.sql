-- One row per URL: the latest HTTP answer we got for it (validators for conditional requests).
with

source as (

    select * from {{ source('ops', 'http_state') }}

),

renamed as (

    select
        url,
        source_id,
        lower(page_kind) as page_kind,
        nullif(etag, '') as etag,
        nullif(last_modified, '') as last_modified,
        content_hash,
        cast(last_status as integer) as last_status,
        cast(last_fetched as timestamp) as last_fetched_at,
        run_id

    from source

)

select * from renamed
