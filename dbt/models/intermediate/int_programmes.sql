-- One row per programme: the seed catalogue, plus programmes discovered in text that the catalogue lacks.
with

catalogue as (

    select * from {{ ref('programmes') }}
    where nullif(trim(programme_id), '') is not null
    -- A hand-edited catalogue may repeat an id: keep its first row rather than break every mart.
    qualify row_number() over (partition by trim(programme_id) order by name) = 1

),

article_mentions as (

    select * from {{ ref('int_article_mentions') }}

),

mentions as (

    select article_mentions.article_id, unnest(article_mentions.programme_mentions, recursive := true)
    from article_mentions

),

catalogue_programmes as (

    select
        trim(programme_id) as programme_id,
        coalesce(nullif(trim(name), ''), nullif(trim(acronym), ''), trim(programme_id)) as name,
        nullif(trim(acronym), '') as acronym,
        list_filter(
            list_transform(string_split(coalesce(aliases, ''), '|'), alias -> trim(alias)),
            alias -> alias <> ''
        ) as aliases,
        nullif(trim(level), '') as level,
        nullif(trim(funder), '') as funder,
        cast(start_year as integer) as start_year,
        cast(end_year as integer) as end_year,
        nullif(trim(url), '') as url,
        false as is_discovered

    from catalogue

),

-- Any programme id the catalogue lacks ('discovered:<slug>', or a catalogue id since removed) is kept
-- as a discovered programme, named by its most frequent spelling in the text.
discovered_surfaces as (

    select
        programme_id,
        surface,
        count(*) as articles

    from mentions
    where programme_id not in (select programme_id from catalogue_programmes)
    group by programme_id, surface

),

discovered_programmes as (

    select
        programme_id,
        arg_max(surface, articles * 1000000 - length(surface)) as name,
        cast(null as varchar) as acronym,
        list(distinct surface order by surface) as aliases,
        cast(null as varchar) as level,
        cast(null as varchar) as funder,
        cast(null as integer) as start_year,
        cast(null as integer) as end_year,
        cast(null as varchar) as url,
        true as is_discovered

    from discovered_surfaces
    group by programme_id

)

select * from catalogue_programmes
union all
select * from discovered_programmes
