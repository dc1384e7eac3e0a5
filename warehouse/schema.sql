-- Raw layer of the Stadtradar warehouse: what the scrapers stored, one table per kind of record.
-- dbt reads only these tables (as sources); every write is an idempotent upsert on the primary key.
create schema if not exists raw;
create schema if not exists ops;

-- Every fetched response, archived before it is parsed, so extraction can be re-run offline.
create table if not exists raw.pages (
    url            varchar primary key,   -- canonical URL of the page
    source_id      varchar not null,
    requested_url  varchar not null,
    final_url      varchar not null,
    status         integer not null,
    content_type   varchar,
    etag           varchar,
    last_modified  varchar,
    content_hash   varchar not null,      -- sha256 of the body
    body           varchar,               -- decoded HTML/XML text
    page_kind      varchar not null,      -- article | listing | feed | sitemap | other
    fetched_at     timestamp not null,
    run_id         varchar not null
);

-- One row per article (keyed by canonical URL), as extracted from raw.pages.
create table if not exists raw.articles (
    article_id      varchar primary key,  -- sha1 of the canonical URL, 16 hex chars
    source_id       varchar not null,
    url             varchar not null,     -- canonical URL
    title           varchar,
    teaser          varchar,
    body_text       varchar,
    published_date  date,
    modified_date   date,
    author          varchar,
    language        varchar,
    is_relevant     boolean not null,
    relevance_score double not null,
    relevance_terms varchar[],            -- the terms that made the score, for explainability
    content_hash    varchar not null,     -- sha256 of normalised title + body_text
    details         json,                 -- structured key/value blocks (event details) from the page
    extracted_at    timestamp not null,
    run_id          varchar not null
);

-- The gazetteer entries of every city mentioned at least once (reference data resolved in Python).
create table if not exists raw.cities (
    city_id       varchar primary key,    -- GeoNames id
    name          varchar not null,
    country_code  varchar not null,
    admin1_code   varchar,                -- GeoNames admin1 code (Bundesland for DE)
    latitude      double not null,
    longitude     double not null,
    population    bigint
);

-- Candidate mentions of cities and programmes in article text (one row per entity per article).
create table if not exists raw.mentions (
    article_id    varchar not null,
    entity_type   varchar not null,       -- city | programme
    entity_id     varchar not null,       -- city_id (GeoNames id) or programme_id (catalogue id or 'discovered:<slug>')
    surface       varchar not null,       -- the words in the text that were matched (first occurrence)
    char_offset   integer not null,       -- offset of that first occurrence in title + "\n" + body_text
    mention_count integer not null,
    role          varchar,                -- programmes: participation role when stated (modellprojekt, mentor_city, label, partner)
    primary key (article_id, entity_type, entity_id)
);

-- Candidate events found in articles (dated events near event words).
create table if not exists raw.events (
    article_id  varchar not null,
    event_index integer not null,         -- position of the event within the article
    name        varchar not null,
    start_date  date not null,
    end_date    date,
    start_time  time,
    end_time    time,
    city_id     varchar,                  -- GeoNames id, null for online or unknown
    is_online   boolean not null,
    venue       varchar,
    evidence    varchar not null,         -- the sentence the event was read from
    primary key (article_id, event_index)
);

-- One row per ingest run.
create table if not exists ops.runs (
    run_id        varchar primary key,
    flow          varchar not null,
    started_at    timestamp not null,
    finished_at   timestamp,
    status        varchar not null,       -- running | ok | partial | failed
    sources_ok    integer,
    sources_failed integer,
    pages_fetched integer,
    articles_new  integer,
    articles_updated integer,
    articles_unchanged integer,
    errors        integer
);

-- Pages or sources that failed, retried on the next run.
create table if not exists ops.fetch_errors (
    url        varchar not null,
    source_id  varchar not null,
    status     integer,
    error      varchar not null,
    attempts   integer not null,
    run_id     varchar not null,
    failed_at  timestamp not null
);
