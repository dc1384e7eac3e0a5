-- One row per (article, city) the article refers to.
with

article_cities as (

    select * from {{ ref('int_article_cities') }}

)

select
    article_id,
    city_id,
    surface,
    mention_count,
    char_offset

from article_cities
