-- One row per raw article with its duplicate-detection keys; incremental: a run only reads the articles
-- extracted since the last build (re-extracted ones replace their row, keyed by article_id).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='article_id',
        on_schema_change='fail'
    )
}}
with

articles as (

    select * from {{ ref('stg_raw__articles') }}
    {% if is_incremental() %}
    -- ">=": rows of the last batch are read again (replaced, not duplicated), so none is lost to equal timestamps.
    where extracted_at >= (select coalesce(max(extracted_at), '-infinity'::timestamp) from {{ this }})
    {% endif %}

)

select
    *,
    -- An empty body hashes alike on unrelated pages (title-only stubs): those never merge, exactly or nearly.
    case when body_text is null then 'article:' || article_id else content_hash end as dedup_key,
    case when body_text is not null and simhash <> 0 then simhash end as near_duplicate_simhash

from articles
