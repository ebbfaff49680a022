{#- Shared pieces. Values arrive unquoted; the filters quote them:
    ident (identifier), idents (list of identifiers), qname (schema-qualified name),
    literal (string literal or NULL), dollar (dollar-quoted body), grantee / grantees
    (a role or PUBLIC). Types and SQL fragments were re-checked by PostgreSQL's parser. -#}
{% macro target(t) -%}
{%- if t.kind in ["POLICY", "TRIGGER", "CONSTRAINT"] -%}
{{ t.kind }} {{ t.name|ident }} ON {{ t.table|qname }}
{%- elif t.kind == "COLUMN" -%}
COLUMN {{ t.table|qname }}.{{ t.name|ident }}
{%- elif t.schema is none -%}
{{ t.kind }} {{ t.name|ident }}
{%- else -%}
{{ t.kind }} {{ t.schema|ident }}.{{ t.name|ident }}{% if t.args is not none %}({{ t.args|join(", ") }}){% endif %}
{%- endif -%}
{%- endmacro %}
{% macro privileges(g) -%}
{%- for p in g.privileges %}{{ p }}{% if g.columns %} ({{ g.columns|idents }}){% endif %}{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}
{% macro owner(o) -%}
{%- if o.to == "role" %}{{ o.role|ident }}{% else %}CURRENT_USER{% endif -%}
{%- endmacro %}
{% macro role_options(r) -%}
{{ "LOGIN" if r.login else "NOLOGIN" }} {{ "INHERIT" if r.inherit else "NOINHERIT" }} {{ "BYPASSRLS" if r.bypassrls else "NOBYPASSRLS" }} {{ "CREATEDB" if r.createdb else "NOCREATEDB" }} {{ "CREATEROLE" if r.createrole else "NOCREATEROLE" }} CONNECTION LIMIT {{ r.connection_limit }}
{%- endmacro %}
