-- One row per raw article: the article_id that represents it in the marts. Exact duplicates (same
-- content_hash, e.g. one press release at two URLs) and near duplicates (SimHashes at most 3 bits apart, a
-- syndicated story with small edits) form one cluster, represented by its earliest-published article.
-- Memory grows with the number of articles and of near pairs, never with the square of a cluster's size:
-- a story copied to 1,000 URLs is one node per distinct SimHash, and clusters are labelled, not enumerated.
with recursive

articles as (

    -- Only the keys: the bodies would make every copy of this CTE as large as the corpus.
    select article_id, url, published_date, dedup_key, near_duplicate_simhash
    from {{ ref('int_articles') }}

),

-- Exact duplicates first: one fingerprint per content, so a story at many URLs is one fingerprint below.
fingerprints as (

    select dedup_key, min(near_duplicate_simhash) as simhash
    from articles
    where near_duplicate_simhash is not null
    group by dedup_key

),

-- Fingerprints with equal SimHashes are 0 bits apart, so they are one node of the near-duplicate graph:
-- copies of a story that differ only in their page furniture collapse here instead of pairing up.
nodes as (

    select simhash, min(dedup_key) as first_dedup_key
    from fingerprints
    group by simhash

),

-- Pigeonhole: 64 bits in 4 bands of 16; two hashes at most 3 bits apart agree on at least one whole band.
-- Joining on (band, value) finds every candidate pair without comparing all pairs.
bands as (

    select
        nodes.simhash,
        band.band_index,
        (nodes.simhash >> (16 * band.band_index)) & 65535 as band_value

    from nodes
    cross join range(4) as band(band_index)

),

-- Each pair once, from the first band it agrees on: no DISTINCT over all pairs needed.
near_pairs as (

    select
        left_band.simhash as simhash_a,
        right_band.simhash as simhash_b

    from bands as left_band
    inner join bands as right_band
        on right_band.band_index = left_band.band_index
        and right_band.band_value = left_band.band_value
        and right_band.simhash > left_band.simhash
    where bit_count(xor(left_band.simhash, right_band.simhash)) <= {{ var('near_duplicate_max_bits', 3) }}
        and left_band.band_index = case
            when xor(left_band.simhash, right_band.simhash) & 65535 = 0 then 0
            when (xor(left_band.simhash, right_band.simhash) >> 16) & 65535 = 0 then 1
            when (xor(left_band.simhash, right_band.simhash) >> 32) & 65535 = 0 then 2
            else 3
        end

),

edges as (

    select simhash_a as from_simhash, simhash_b as to_simhash from near_pairs
    union all
    select simhash_b, simhash_a from near_pairs

),

-- Near-duplication is not transitive, but the clusters must be: A~B and B~C put A, B and C in one cluster,
-- so that every article maps onto a canonical article that is itself in the marts. Connected components
-- by label propagation: every node starts with its own smallest dedup_key and takes a neighbour's smaller
-- label until none falls. USING KEY keeps one row per node (the reachable pairs of a cluster would be
-- quadratic in its size), and each round only visits the neighbours of the nodes whose label fell in the
-- round before; the rounds end after at most a cluster's diameter.
labels(simhash, cluster_key) using key (simhash) as (

    select simhash, first_dedup_key from nodes

    union

    select edges.to_simhash, min(labels.cluster_key)
    from labels
    inner join edges on edges.from_simhash = labels.simhash
    inner join recurring.labels as current_label on current_label.simhash = edges.to_simhash
    group by edges.to_simhash
    having min(labels.cluster_key) < min(current_label.cluster_key)

),

clusters as (

    select fingerprints.dedup_key, labels.cluster_key
    from fingerprints
    inner join labels on labels.simhash = fingerprints.simhash

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
