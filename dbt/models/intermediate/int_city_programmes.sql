-- One row per (city, programme, role): a city's part in a programme as articles state it about that city
-- (raw.participations, from scrapers/programmes.py find_participations), over canonical articles: the copies
-- of one story count once.
with

participations as (

    select * from {{ ref('stg_raw__participations') }}

),

canonical_ids as (

    select * from {{ ref('int_article_canonical_ids') }}

),

article_cities as (

    select * from {{ ref('int_article_cities') }}

),

article_programmes as (

    select * from {{ ref('int_article_programmes') }}

),

articles as (

    select * from {{ ref('int_articles_deduplicated') }}

),

-- `mentioned` is the role without words that state it.
roles as (

    select role, nullif(trim(pattern), '') is not null as is_stated
    from {{ ref('participation_roles') }}

),

-- One row per (canonical article, city, programme, role); the sentence of the canonical page's own text first
-- (a copy's sentence when the canonical page has none).
article_participations as (

    select
        canonical_ids.canonical_article_id as article_id,
        participations.city_id,
        participations.programme_id,
        participations.role,
        roles.is_stated,
        arg_min(participations.evidence, (not canonical_ids.is_canonical)::int::varchar || participations.article_id)
            as evidence

    from participations
    inner join canonical_ids on canonical_ids.article_id = participations.article_id
    inner join roles on roles.role = participations.role
    group by all

),

-- A role stated on one copy of a story replaces `mentioned` from another copy, as within one page.
stated as (

    select
        *,
        bool_or(is_stated) over (partition by article_id, city_id, programme_id) as article_states_a_role

    from article_participations

),

evidence as (

    select
        stated.city_id,
        stated.programme_id,
        stated.role,
        stated.is_stated,
        stated.article_id,
        stated.evidence,
        coalesce(articles.published_date, cast(articles.extracted_at as date)) as seen_date

    from stated
    inner join article_cities
        on article_cities.article_id = stated.article_id
        and article_cities.city_id = stated.city_id
    inner join article_programmes
        on article_programmes.article_id = stated.article_id
        and article_programmes.programme_id = stated.programme_id
    inner join articles on articles.article_id = stated.article_id
    where stated.is_stated or not stated.article_states_a_role

)

select
    city_id,
    programme_id,
    role,
    is_stated,
    min(seen_date) as first_seen,
    max(seen_date) as last_seen,
    arg_min(article_id, seen_date::varchar || article_id) as evidence_article_id,
    -- The sentence of that same article (null for `mentioned` when no sentence of it names both).
    arg_min_null(evidence, seen_date::varchar || article_id) as evidence,
    count(distinct article_id) as article_count

from evidence
group by city_id, programme_id, role, is_stated
