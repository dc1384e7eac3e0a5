{#- Relations in model SQL are written schema.table, never database.schema.table. DuckDB names a database
    after its file, and a view keeps the SQL it was created with: a view reading "stadtradar"."marts"."events"
    breaks with `Catalog "stadtradar" does not exist` as soon as the warehouse is copied, renamed or backed up
    under another name. Without the database part a view resolves in the file it lives in, whatever its name.
    These mask dbt's ref() and source() in this project (dbt's documented `builtins` override); everything
    else about the two stays dbt's. -#}
{% macro ref() -%}
    {%- set version = kwargs.get('version') or kwargs.get('v') -%}
    {%- if varargs | length == 1 -%}
        {%- set relation = builtins.ref(varargs[0], version=version) if version else builtins.ref(varargs[0]) -%}
    {%- else -%}
        {%- set relation = builtins.ref(varargs[0], varargs[1], version=version) if version
                           else builtins.ref(varargs[0], varargs[1]) -%}
    {%- endif -%}
    {{ return(relation.include(database=stadtradar_names_database())) }}
{%- endmacro %}

{% macro source(source_name, table_name) -%}
    {{ return(builtins.source(source_name, table_name).include(database=stadtradar_names_database())) }}
{%- endmacro %}

{#- A DuckLake warehouse is attached under an alias (the `lake` target), never the default catalog of dbt's
    connection: there relations must name it. -#}
{% macro stadtradar_names_database() -%}
    {{ return(target.name == 'lake') }}
{%- endmacro %}
