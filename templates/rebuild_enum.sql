{#- Values were removed or reordered: build the type again under its name and convert every
    column (what else used the type was dropped before and is created after). -#}
{%- set q = enum_type.name|qname -%}
{%- set shown = enum_type.name.schema ~ "." ~ enum_type.name.name -%}
ALTER TYPE {{ q }} RENAME TO {{ old_name|ident }};
CREATE TYPE {{ q }} AS ENUM ({% for v in enum_type.values %}{{ v|literal }}{% if not loop.last %}, {% endif %}{% endfor %});
{%- if removed and columns %}
{%- set guard %}
BEGIN
{%- for c in columns %}
  IF EXISTS (SELECT FROM {{ c.table|qname }} WHERE {% if c.array %}{{ c.column|ident }}::text[] && ARRAY[{% for v in removed %}{{ v|literal }}{% if not loop.last %}, {% endif %}{% endfor %}]{% else %}{{ c.column|ident }}::text IN ({% for v in removed %}{{ v|literal }}{% if not loop.last %}, {% endif %}{% endfor %}){% endif %}) THEN
    RAISE EXCEPTION USING
      MESSAGE = {{ ("cannot remove " ~ removed|join(", ") ~ " from enum " ~ shown ~ ": rows of " ~ c.table.schema ~ "." ~ c.table.name ~ "." ~ c.column ~ " still hold it")|literal }},
      HINT = {{ "update those rows first, or give replace_with under accept_data_loss"|literal }};
  END IF;
{%- endfor %}
END
{% endset %}
DO {{ guard|dollar }};
{%- endif %}
{%- for c in columns %}
{%- set col = c.column|ident %}
ALTER TABLE {{ c.table|qname }} ALTER COLUMN {{ col }} TYPE {{ c.data_type }} USING
{%- if c.array %} {% for r in replacements %}array_replace({% endfor %}{{ col }}::text[]{% for r in replacements %}, {{ r[0]|literal }}, {{ r[1]|literal }}){% endfor %}::{{ c.data_type }};
{%- elif replacements %} (CASE {{ col }}::text{% for r in replacements %} WHEN {{ r[0]|literal }} THEN {{ r[1]|literal }}{% endfor %} ELSE {{ col }}::text END)::{{ c.data_type }};
{%- else %} {{ col }}::text::{{ c.data_type }};
{%- endif %}
{%- endfor %}
DROP TYPE {{ enum_type.name.schema|ident }}.{{ old_name|ident }};
