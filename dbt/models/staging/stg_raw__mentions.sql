-- One row per entity (city or programme) mentioned in an article.
with

source as (

    select * from {{ source('raw', 'mentions') }}

),

renamed as (

    select
        article_id,
        lower(trim(entity_type)) as entity_type,
        trim(entity_id) as entity_id,
        trim(surface) as surface,
        cast(char_offset as integer) as char_offset,
        cast(mention_count as integer) as mention_count

    from source

)

select * from renamed
