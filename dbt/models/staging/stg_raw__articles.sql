-- One row per extracted article page (duplicates by content are resolved in intermediate).
with

source as (

    select * from {{ source('raw', 'articles') }}

),

renamed as (

    select
        article_id,
        source_id,
        url,
        nullif(trim(regexp_replace(title, '\s+', ' ', 'g')), '') as title,
        nullif(trim(teaser), '') as teaser,
        nullif(trim(body_text), '') as body_text,
        cast(published_date as date) as published_date,
        cast(modified_date as date) as modified_date,
        nullif(trim(author), '') as author,
        lower(nullif(trim(language), '')) as language,
        cast(is_relevant as boolean) as is_relevant,
        cast(relevance_score as double) as relevance_score,
        coalesce(relevance_terms, cast([] as varchar[])) as relevance_terms,
        content_hash,
        details,
        cast(simhash as ubigint) as simhash,
        page_url,
        page_content_hash,
        fetch_run_id,
        extractor_version,
        cast(extracted_at as timestamp) as extracted_at,
        run_id

    from source

)

select * from renamed
