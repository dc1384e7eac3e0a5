-- One row per failed page or source and run.
with

source as (

    select * from {{ source('ops', 'fetch_errors') }}

),

renamed as (

    select
        url,
        source_id,
        cast(status as integer) as http_status,
        error,
        cast(attempts as integer) as attempts,
        run_id,
        cast(failed_at as timestamp) as failed_at

    from source

)

select * from renamed
