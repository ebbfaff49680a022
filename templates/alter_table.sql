{%- for a in actions %}
ALTER TABLE {{ table|qname }}
{%- if a.action == "add_column" %} ADD COLUMN {{ a.column.name|ident }} {{ a.column.data_type.sql }}{% if a.default %} DEFAULT ({{ a.default.sql }}){% endif %}{% if a.column.not_null %} NOT NULL{% endif %}{% if a.column.identity %} GENERATED {{ a.column.identity }} AS IDENTITY{% endif %}
{%- elif a.action == "drop_column" %} DROP COLUMN {{ a.column.name|ident }}
{%- elif a.action == "alter_column_type" %} ALTER COLUMN {{ a.column|ident }} TYPE {{ a.data_type.sql }} USING {% if a.using is not none %}({{ a.using }}){% else %}{{ a.column|ident }}::{{ a.data_type.sql }}{% endif %}
{%- elif a.action == "set_not_null" %} ALTER COLUMN {{ a.column|ident }} SET NOT NULL
{%- elif a.action == "drop_not_null" %} ALTER COLUMN {{ a.column|ident }} DROP NOT NULL
{%- elif a.action == "add_identity" %} ALTER COLUMN {{ a.column|ident }} ADD GENERATED {{ a.identity }} AS IDENTITY
{%- elif a.action == "set_identity" %} ALTER COLUMN {{ a.column|ident }} SET GENERATED {{ a.identity }}
{%- elif a.action == "drop_identity" %} ALTER COLUMN {{ a.column|ident }} DROP IDENTITY
{%- elif a.action == "add_primary_key" %} ADD CONSTRAINT {{ a.key.name|ident }} PRIMARY KEY ({{ a.key.columns|idents }})
{%- elif a.action == "add_unique" %} ADD CONSTRAINT {{ a.key.name|ident }} UNIQUE ({{ a.key.columns|idents }})
{%- elif a.action == "drop_constraint" %} DROP CONSTRAINT {{ a.name|ident }}
{%- elif a.action == "enable_rls" %} ENABLE ROW LEVEL SECURITY
{%- elif a.action == "disable_rls" %} DISABLE ROW LEVEL SECURITY
{%- elif a.action == "force_rls" %} FORCE ROW LEVEL SECURITY
{%- elif a.action == "no_force_rls" %} NO FORCE ROW LEVEL SECURITY
{%- endif %};
{%- endfor %}
