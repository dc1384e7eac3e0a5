-- One row per (article, city, programme, role): a city's part in a programme as one article states it.
with

source as (

    select * from {{ source('raw', 'participations') }}

),

renamed as (

    select
        article_id,
        trim(cast(city_id as varchar)) as city_id,
        trim(programme_id) as programme_id,
        lower(trim(role)) as role,
        nullif(trim(regexp_replace(evidence, '\s+', ' ', 'g')), '') as evidence

    from source

)

select * from renamed
