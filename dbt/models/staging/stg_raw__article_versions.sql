-- One row per distinct extracted content of an article (append-only history of a changing page).
with

source as (

    select * from {{ source('raw', 'article_versions') }}

),

renamed as (

    select
        article_id,
        content_hash,
        url,
        nullif(trim(regexp_replace(title, '\s+', ' ', 'g')), '') as title,
        nullif(trim(teaser), '') as teaser,
        nullif(trim(body_text), '') as body_text,
        cast(published_date as date) as published_date,
        cast(modified_date as date) as modified_date,
        page_content_hash,
        cast(first_seen_at as timestamp) as first_seen_at,
        run_id,
        extractor_version

    from source

)

select * from renamed
