{#- Fails for every row whose combination of columns (all non-null) has no row in `to` with the same values in
    `fields`: a composite foreign key, which dbt's built-in `relationships` test (one column) cannot express. -#}
{% test relationships_composite(model, columns, to, fields, column_name=none) %}

select child.*
from {{ model }} as child
where {% for column in columns %}child.{{ column }} is not null{{ " and " if not loop.last }}{% endfor %}
  and not exists (
      select 1
      from {{ to }} as parent
      where {% for column in columns %}parent.{{ fields[loop.index0] }} = child.{{ column }}{{ " and " if not loop.last }}{% endfor %}
  )

{% endtest %}
