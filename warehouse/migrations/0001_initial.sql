-- Migration 0001: the schema as it stood when migrations were numbered (it was warehouse/schema.sql then).
-- Never edited: later steps change it (0002 moved the page bodies out of raw.pages into WARC files, so the
-- comments below on bodies and row groups describe raw.pages as it was). Every statement only adds what is
-- missing, because a warehouse made before numbered migrations runs it too (warehouse/migrations/unversioned.py).
-- Raw layer of the Stadtradar warehouse: what the scrapers stored, one table per kind of record.
-- dbt reads only these tables (as sources); every write is idempotent: an upsert on the primary key or, for
-- the tables that hold page and article texts, a write the loader keys itself (see raw.pages).
create schema if not exists raw;
create schema if not exists ops;

-- The archive: every distinct body fetched for a URL, append-only, so extraction can be re-run offline
-- (`stadtradar reparse`) and earlier versions of a page stay readable. A body seen again adds no row.
-- (url, content_hash) is its key, kept by the loader rather than declared: with a declared key DuckDB
-- rewrites the table's texts at every checkpoint, which cost seconds and hundreds of MB per load at 10,000
-- pages. The same holds for raw.articles and raw.article_versions; dbt tests all three keys on every build.
-- Bodies are stored zlib-compressed (a quarter of the size). A run appends each batch as a row group of its
-- own and keeps DuckDB's checkpoint from merging it into the one before (warehouse.db._settings), which
-- would rewrite the earlier bodies: lookups by key go to ops.http_state instead.
create table if not exists raw.pages (
    url            varchar not null,      -- canonical URL of the page as requested
    content_hash   varchar not null,      -- sha256 of the decoded body
    source_id      varchar not null,
    requested_url  varchar not null,
    final_url      varchar not null,      -- after same-host redirects
    status         integer not null,
    content_type   varchar,
    etag           varchar,
    last_modified  varchar,
    body           blob,                  -- decoded HTML/XML text, UTF-8, zlib-compressed (warehouse.load.pack_body)
    body_chars     integer,               -- length of the decoded text in characters
    page_kind      varchar not null,      -- article | listing | feed | sitemap
    fetched_at     timestamp not null,    -- first time this body was fetched
    run_id         varchar not null       -- the run that first fetched this body
);

-- HTTP state per URL, for conditional and incremental requests: the latest answer we got.
create table if not exists ops.http_state (
    url            varchar primary key,
    source_id      varchar not null,
    page_kind      varchar not null,
    etag           varchar,
    last_modified  varchar,
    content_hash   varchar,               -- of the latest body (joins raw.pages)
    last_status    integer not null,
    last_fetched   timestamp not null,
    run_id         varchar not null
);

-- The sources as declared in sources.yml at the last run (descriptive attributes only).
create table if not exists raw.sources (
    source_id   varchar primary key,
    name        varchar not null,
    kind        varchar not null,
    city        varchar,
    licence     varchar,
    terms_url   varchar,
    entry_points integer not null,        -- feeds + sitemaps + listings declared
    updated_at  timestamp not null
);

-- One row per article (keyed by canonical URL), as extracted from raw.pages.
create table if not exists raw.articles (
    article_id      varchar not null,     -- key: sha1 of the canonical URL, 16 hex chars
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
    simhash         ubigint,              -- 64-bit SimHash of the body, for near-duplicate detection
    page_url        varchar not null,     -- archive record holding the raw page: raw.pages(url, content_hash)
    page_content_hash varchar not null,
    fetch_run_id    varchar not null,     -- the run that fetched that page
    extractor_version varchar not null,
    extracted_at    timestamp not null,
    run_id          varchar not null      -- the run that extracted this row
);

-- Every distinct version of an article's extracted content, append-only (history of a changing page).
create table if not exists raw.article_versions (
    article_id      varchar not null,
    content_hash    varchar not null,
    url             varchar not null,
    title           varchar,
    teaser          varchar,
    body_text       varchar,
    published_date  date,
    modified_date   date,
    page_content_hash varchar not null,
    first_seen_at   timestamp not null,
    run_id          varchar not null,     -- key: (article_id, content_hash)
    extractor_version varchar             -- which extractor made the row (scrapers.process.EXTRACTOR_VERSION)
);
-- Warehouses from before extractor_version: the column is added, older rows say null (not known).
alter table raw.article_versions add column if not exists extractor_version varchar;

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
    primary key (article_id, entity_type, entity_id)
);

-- Each mentioned city's part in each programme its article names (scrapers.programmes.find_participations):
-- the role a sentence states about the city, else `mentioned`. Written with raw.mentions, per article.
create table if not exists raw.participations (
    article_id    varchar not null,
    city_id       varchar not null,       -- GeoNames id
    programme_id  varchar not null,       -- catalogue id or 'discovered:<slug>'
    role          varchar not null,       -- a role of the seed participation_roles (modellprojekt, mentor_city, label, partner, mentioned)
    evidence      varchar,                -- the sentence stating the role (at most 500 characters); for `mentioned`
                                          -- the first sentence naming both, null when none does
    primary key (article_id, city_id, programme_id, role)
);
-- (Warehouses from before raw.participations had a role column in raw.mentions: warehouse.db drops it.)

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
    address     varchar,
    event_type  varchar,                  -- konferenz | kongress | forum | workshop | webinar | messe | ... (lower case)
    organiser   varchar,
    programme_id varchar,                 -- the programme the event belongs to, when named
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

-- Per source per run: what the crawl did and how healthy the extracted records look.
create table if not exists ops.source_runs (
    run_id        varchar not null,
    source_id     varchar not null,
    discovered    integer not null,
    fetched       integer not null,
    not_modified  integer not null,
    articles      integer not null,
    articles_new  integer not null,
    articles_updated integer not null,
    articles_unchanged integer not null,
    errors        integer not null,
    failed        boolean not null,
    share_title   double,                 -- shares over this run's extracted articles (null when none)
    share_date    double,
    share_body    double,                 -- body of at least the minimum length
    share_entity  double,                 -- at least one city or programme
    healthy       boolean not null,
    health_reason varchar,
    finished_at   timestamp not null,
    robots_refused integer not null default 0, -- article URLs robots.txt forbids us (honoured, not errors)
    fetch_seconds   double,               -- time spent per step (steps of different sources overlap)
    archive_seconds double,
    extract_seconds double,
    load_seconds    double,
    primary key (run_id, source_id)
);

-- The key, content hash and extraction time of every article in raw.articles, which the loader and the build
-- fingerprint read instead of scanning raw.articles: that table is appended in one small row group per batch,
-- so a scan of it reads a block per batch. Written with raw.articles in one transaction; filled from it in a
-- warehouse made before.
create table if not exists ops.article_index (
    article_id    varchar primary key,
    content_hash  varchar not null,
    extracted_at  timestamp
);
insert into ops.article_index
select article_id, arg_max(content_hash, extracted_at), max(extracted_at) from raw.articles
where (select count(*) from ops.article_index) < (select count(*) from raw.articles)
group by article_id
on conflict do nothing;

-- The version of each page that was extracted, whatever it gave (an article, no article, an error). A page a
-- stopped run archived but did not extract differs here from ops.http_state: the next run extracts it from
-- the archive instead of counting it as known. Filled from raw.articles in a warehouse made before.
create table if not exists ops.extracted_pages (
    url           varchar primary key,
    content_hash  varchar not null,
    extracted_at  timestamp not null,
    soft_error    boolean not null       -- the page looked like the site's error page: fetched again next run
);
insert into ops.extracted_pages
select page_url, arg_max(page_content_hash, extracted_at), max(extracted_at), false from raw.articles
where (select count(*) from ops.extracted_pages) = 0
group by page_url
on conflict do nothing;

-- Successful dbt builds: what they were built from, so a run that changed nothing can skip the build.
create table if not exists ops.builds (
    built_at     timestamp not null,
    fingerprint  varchar not null         -- hash of the dbt project files and of the raw data's state
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
