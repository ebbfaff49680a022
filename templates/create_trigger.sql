CREATE TRIGGER {{ trigger.name|ident }} {{ trigger.timing }} {{ trigger.events|join(" OR ") }} ON {{ table|qname }}
    FOR EACH {{ "ROW" if trigger.for_each_row else "STATEMENT" }}
{%- if trigger.when %}
    WHEN ({{ trigger.when.sql }})
{%- endif %}
    EXECUTE FUNCTION {{ trigger.function.name|qname }}({% for a in trigger.args %}{{ a|literal }}{% if not loop.last %}, {% endif %}{% endfor %});
