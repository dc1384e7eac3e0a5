-- One row per candidate event read from an article (several articles may report the same event).
with

source as (

    select * from {{ source('raw', 'events') }}

),

renamed as (

    select
        article_id,
        cast(event_index as integer) as event_index,
        trim(regexp_replace(name, '\s+', ' ', 'g')) as name,
        cast(start_date as date) as start_date,
        -- An end before the start is a misread date range, not information: drop it rather than mislead.
        case when end_date >= start_date then cast(end_date as date) end as end_date,
        cast(start_time as time) as start_time,
        case
            when end_date > start_date or end_time >= start_time or start_time is null then cast(end_time as time)
        end as end_time,
        nullif(trim(cast(city_id as varchar)), '') as city_id,
        cast(is_online as boolean) as is_online,
        nullif(trim(venue), '') as venue,
        nullif(trim(regexp_replace(address, '\s+', ' ', 'g')), '') as address,
        lower(nullif(trim(event_type), '')) as event_type,
        nullif(trim(organiser), '') as organiser,
        nullif(trim(programme_id), '') as programme_id,
        trim(evidence) as evidence

    from source

)

select * from renamed
