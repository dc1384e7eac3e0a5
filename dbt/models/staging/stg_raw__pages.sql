-- One row per archived page version (URL and body hash) and where its WARC record is (the body stays there).
with

source as (

    select * from {{ source('raw', 'pages') }}

),

renamed as (

    select
        url,
        content_hash,
        source_id,
        requested_url,
        final_url,
        cast(status as integer) as http_status,
        lower(nullif(trim(content_type), '')) as content_type,
        nullif(etag, '') as etag,
        nullif(last_modified, '') as last_modified,
        lower(page_kind) as page_kind,
        body_chars as body_length,
        cast(fetched_at as timestamp) as fetched_at,
        run_id,
        warc_file,
        warc_offset,
        warc_length

    from source

)

select * from renamed
