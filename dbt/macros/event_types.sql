{#- The kinds of event the marts distinguish (lower case, German as the sources write them). A kind the
    extractor reports outside this list becomes 'other' in int_events_deduplicated; the accepted_values
    tests on event_type list the same values (keep the three in step). -#}
{% macro event_types() -%}
    {{ return(['konferenz', 'kongress', 'tagung', 'forum', 'symposium', 'workshop', 'seminar', 'webinar',
               'vortrag', 'messe', 'ausstellung', 'festival', 'hackathon', 'barcamp', 'netzwerktreffen',
               'infoveranstaltung', 'beteiligung', 'preisverleihung', 'exkursion', 'other']) }}
{%- endmacro %}
