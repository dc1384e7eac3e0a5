-- Per-source freshness: a source whose latest article was extracted more than 14 days ago has stopped
-- delivering (a site relaunch, a blocked crawler). A warning: stale data is a finding, not a broken build.
{{ config(severity='warn') }}
select source_id, last_extracted_at, freshness_status
from {{ ref('sources') }}
where is_declared
  and freshness_status = 'error'
