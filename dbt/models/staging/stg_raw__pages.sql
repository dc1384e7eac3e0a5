-- One row per fetched page, without the HTML body (the archive stays in raw.pages for re-parsing).
with

source as (

    select * from {{ source('raw', 'pages') }}

),

renamed as (

    select
        url,
        source_id,
        requested_url,
        final_url,
        cast(status as integer) as http_status,
        lower(nullif(trim(content_type), '')) as content_type,
        nullif(etag, '') as etag,
        nullif(last_modified, '') as last_modified,
        content_hash,
        lower(page_kind) as page_kind,
        cast(fetched_at as timestamp) as fetched_at,
        run_id

    from source

)

select * from renamed
