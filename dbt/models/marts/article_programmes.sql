-- One row per (article, programme) the article names.
with

article_programmes as (

    select * from {{ ref('int_article_programmes') }}

)

select
    article_id,
    programme_id,
    surface,
    mention_count

from article_programmes
