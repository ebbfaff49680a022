CREATE {% if replace %}OR REPLACE {% endif %}FUNCTION {{ function.name|qname }}(
{%- for a in function.args %}{% if a.mode != "IN" %}{{ a.mode }} {% endif %}{% if a.name %}{{ a.name|ident }} {% endif %}{{ a.data_type.sql }}{% if a.default %} DEFAULT ({{ a.default.sql }}){% endif %}{% if not loop.last %}, {% endif %}{% endfor -%}
)
RETURNS {% if function.returns.kind == "void" %}void
{%- elif function.returns.kind == "trigger" %}trigger
{%- elif function.returns.kind == "type" %}{{ function.returns.value.sql }}
{%- elif function.returns.kind == "set_of" %}SETOF {{ function.returns.value.sql }}
{%- else %}TABLE ({% for c in function.returns.value %}{{ c.name|ident }} {{ c.data_type.sql }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endif %}
LANGUAGE {{ function.language }}
{{ function.volatility }}{% if function.strict %} STRICT{% endif %}{% if function.security_definer %} SECURITY DEFINER{% endif %}
{%- if function.search_path is not none %}
SET search_path = {% if function.search_path %}{{ function.search_path|idents }}{% else %}''{% endif %}
{%- endif %}
AS {{ function.body|dollar }};
