{#- Shared pieces. Values arrive unquoted; the filters quote them:
    ident (identifier), idents (list of identifiers), qname (schema-qualified name),
    literal (string literal or NULL), dollar (dollar-quoted body), grantee / grantees
    (a role or PUBLIC), target (what a grant, comment, drop or rename names: `TABLE s.t`,
    `FUNCTION s.f(integer)`, `POLICY p ON s.t`, ...), privileges (a grant's privileges,
    with its columns). Types and SQL fragments were re-checked by PostgreSQL's parser.
    The macros `target` and `privileges` call those filters (calling a macro costs three
    times what a filter does) and stay for project templates that import them. -#}
{% macro target(t) -%}
{{ t|target }}
{%- endmacro %}
{% macro privileges(g) -%}
{{ g|privileges }}
{%- endmacro %}
{% macro owner(o) -%}
{%- if o.to == "role" %}{{ o.role|ident }}{% else %}CURRENT_USER{% endif -%}
{%- endmacro %}
{% macro role_options(r) -%}
{{ "LOGIN" if r.login else "NOLOGIN" }} {{ "INHERIT" if r.inherit else "NOINHERIT" }} {{ "BYPASSRLS" if r.bypassrls else "NOBYPASSRLS" }} {{ "CREATEDB" if r.createdb else "NOCREATEDB" }} {{ "CREATEROLE" if r.createrole else "NOCREATEROLE" }} CONNECTION LIMIT {{ r.connection_limit }}
{%- endmacro %}
