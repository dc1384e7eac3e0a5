{#- Use a model's custom schema verbatim (marts, staging, intermediate, reference) instead of dbt's
    default "<target schema>_<custom schema>", so readers can rely on fixed names like marts.articles. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
