-- What `stadtradar check-sources` (and its weekly deployment) found about each source: one row per source
-- and check. `status` reports a source whose latest check is not ok.
create table if not exists ops.source_checks (
    checked_at  timestamp not null,
    source_id   varchar not null,
    verdict     varchar not null,         -- ok | degraded | broken
    reasons     varchar[] not null,       -- what is wrong, one sentence each
    suggestions varchar[] not null,       -- what to change in sources.yml
    details     json,                     -- the whole check: robots.txt, entry points, newest article
    primary key (checked_at, source_id)
);
