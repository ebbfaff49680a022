{% import "_macros.sql" as m -%}
ALTER {{ m.target(target) }} OWNER TO {{ m.owner(owner) }};
