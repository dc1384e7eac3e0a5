-- One row per gazetteer entry (GeoNames id) that was mentioned somewhere.
with

source as (

    select * from {{ source('raw', 'cities') }}

),

renamed as (

    select
        cast(city_id as varchar) as city_id,
        trim(name) as name,
        upper(trim(country_code)) as country_code,
        -- GeoNames writes DE admin1 codes with a leading zero ("01"); a numeric round trip may have lost it.
        case
            when regexp_matches(trim(admin1_code), '^[0-9]$') then '0' || trim(admin1_code)
            else nullif(trim(admin1_code), '')
        end as admin1_code,
        cast(latitude as double) as latitude,
        cast(longitude as double) as longitude,
        cast(population as bigint) as population

    from source

)

select * from renamed
