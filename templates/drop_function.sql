{% import "_macros.sql" as m -%}
DROP {{ m.target(target) }};
