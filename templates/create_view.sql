{%- set options = [] -%}
{%- if view.security_invoker %}{% set options = options + ["security_invoker = true"] %}{% endif -%}
{%- if view.security_barrier %}{% set options = options + ["security_barrier = true"] %}{% endif -%}
CREATE VIEW {{ view.name|qname }}{% if options %} WITH ({{ options|join(", ") }}){% endif %} AS
{{ view.query.sql }}{% if "--" in view.query.sql %}
{% endif %};
