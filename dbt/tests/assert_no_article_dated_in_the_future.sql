-- No article is published more than a day after it was extracted (a day of slack for time zones):
-- a later date is a misread date. A warning, since it is scraped data, not a broken model.
{{ config(severity='warn') }}
select article_id, url, published_date, extracted_at
from {{ ref('articles') }}
where published_date > cast(extracted_at as date) + interval 1 day
   or published_date > current_date + interval 1 day
