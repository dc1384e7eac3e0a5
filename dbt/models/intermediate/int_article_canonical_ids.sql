-- One row per raw article: the article_id that represents it in the marts. Exact duplicates (same
-- content_hash, e.g. one press release at two URLs) and near duplicates (SimHashes at most 3 bits apart, a
-- syndicated story with small edits) form one cluster, represented by its earliest-published article.
with recursive

articles as (

    select * from {{ ref('int_articles') }}

),

-- Exact duplicates first: one fingerprint per content, so a story at many URLs is one node below.
fingerprints as (

    select dedup_key, min(near_duplicate_simhash) as simhash
    from articles
    where near_duplicate_simhash is not null
    group by dedup_key

),

-- Pigeonhole: 64 bits in 4 bands of 16; two hashes at most 3 bits apart agree on at least one whole band.
-- Joining on (band, value) finds every candidate pair without comparing all pairs.
bands as (

    select
        fingerprints.dedup_key,
        fingerprints.simhash,
        band.band_index,
        (fingerprints.simhash >> (16 * band.band_index)) & 65535 as band_value

    from fingerprints
    cross join range(4) as band(band_index)

),

near_pairs as (

    select distinct
        left_band.dedup_key as key_a,
        right_band.dedup_key as key_b

    from bands as left_band
    inner join bands as right_band
        on right_band.band_index = left_band.band_index
        and right_band.band_value = left_band.band_value
        and right_band.dedup_key > left_band.dedup_key
    where bit_count(xor(left_band.simhash, right_band.simhash)) <= {{ var('near_duplicate_max_bits', 3) }}

),

edges as (

    select key_a, key_b from near_pairs
    union all
    select key_b, key_a from near_pairs

),

-- Near-duplication is not transitive, but the clusters must be: A~B and B~C put A, B and C in one cluster,
-- so that every article maps onto a canonical article that is itself in the marts.
reachable(dedup_key, reached_key) as (

    select key_a, key_b from edges
    union
    select reachable.dedup_key, edges.key_b
    from reachable
    inner join edges on edges.key_a = reachable.reached_key

),

clusters as (

    select dedup_key, least(dedup_key, min(reached_key)) as cluster_key
    from reachable
    group by dedup_key

),

ranked as (

    select
        articles.article_id,
        articles.dedup_key,
        articles.near_duplicate_simhash,
        coalesce(clusters.cluster_key, articles.dedup_key) as cluster_key,
        -- The earliest publication wins; then the shorter (more canonical) URL; then the URL itself,
        -- so the choice is stable across runs.
        row_number() over (
            partition by coalesce(clusters.cluster_key, articles.dedup_key)
            order by articles.published_date asc nulls last, length(articles.url), articles.url
        ) as rank_in_cluster

    from articles
    left join clusters on clusters.dedup_key = articles.dedup_key

)

select
    ranked.article_id,
    canonical.article_id as canonical_article_id,
    ranked.article_id = canonical.article_id as is_canonical,
    case
        when ranked.article_id = canonical.article_id then 'canonical'
        when ranked.dedup_key = canonical.dedup_key then 'exact'
        else 'near'
    end as duplicate_kind,
    cast(bit_count(xor(ranked.near_duplicate_simhash, canonical.near_duplicate_simhash)) as integer)
        as simhash_distance

from ranked
inner join ranked as canonical
    on canonical.cluster_key = ranked.cluster_key
    and canonical.rank_in_cluster = 1
