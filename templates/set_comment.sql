{% import "_macros.sql" as m -%}
COMMENT ON {{ m.target(target) }} IS {{ text|literal }};
