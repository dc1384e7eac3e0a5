{#- Fails for every combination of the given columns that occurs more than once (a composite key).
    Written here because packages (dbt_utils) cannot be installed offline. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences

from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
