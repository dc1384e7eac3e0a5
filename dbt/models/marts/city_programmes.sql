-- One row per (city, programme, role): a city's part in a programme as articles state it about that city.
with

city_programmes as (

    select * from {{ ref('int_city_programmes') }}

)

select
    city_id,
    programme_id,
    role,
    is_stated,
    evidence,
    first_seen,
    last_seen,
    evidence_article_id,
    article_count

from city_programmes
