-- One row per source as declared in sources.yml at the last run.
with

source as (

    select * from {{ source('raw', 'sources') }}

),

renamed as (

    select
        source_id,
        trim(name) as name,
        lower(trim(kind)) as kind,
        nullif(trim(city), '') as city,
        nullif(trim(licence), '') as licence,
        nullif(trim(terms_url), '') as terms_url,
        cast(entry_points as integer) as entry_points,
        cast(updated_at as timestamp) as updated_at

    from source

)

select * from renamed
