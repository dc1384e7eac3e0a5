-- One row per (city, programme, role): a city's participation in a programme as stated in articles.
with

city_programmes as (

    select * from {{ ref('int_city_programmes') }}

)

select
    city_id,
    programme_id,
    role,
    first_seen,
    last_seen,
    evidence_article_id,
    article_count

from city_programmes
