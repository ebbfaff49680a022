{% import "_macros.sql" as m -%}
{% if granted %}GRANT EXECUTE ON {{ m.target(target) }} TO PUBLIC;{% else %}REVOKE EXECUTE ON {{ m.target(target) }} FROM PUBLIC;{% endif %}
