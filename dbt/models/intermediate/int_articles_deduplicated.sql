-- One row per canonical article, with the URLs of its exact and near duplicates.
with

articles as (

    select * from {{ ref('int_articles') }}

),

canonical_ids as (

    select * from {{ ref('int_article_canonical_ids') }}

),

duplicates as (

    select
        canonical_ids.canonical_article_id as article_id,
        list(articles.url order by articles.url) as duplicate_urls,
        list(articles.article_id order by articles.url) as duplicate_article_ids,
        count(*) filter (where canonical_ids.duplicate_kind = 'near') as near_duplicate_count

    from canonical_ids
    inner join articles on articles.article_id = canonical_ids.article_id
    where not canonical_ids.is_canonical
    group by canonical_ids.canonical_article_id

)

select
    articles.* exclude (dedup_key, near_duplicate_simhash),
    coalesce(duplicates.duplicate_urls, cast([] as varchar[])) as duplicate_urls,
    coalesce(duplicates.duplicate_article_ids, cast([] as varchar[])) as duplicate_article_ids,
    coalesce(duplicates.near_duplicate_count, 0) as near_duplicate_count

from articles
inner join canonical_ids
    on canonical_ids.article_id = articles.article_id
    and canonical_ids.is_canonical
left join duplicates on duplicates.article_id = articles.article_id
