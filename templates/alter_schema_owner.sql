{% import "_macros.sql" as m -%}
ALTER SCHEMA {{ name|ident }} OWNER TO {{ m.owner(owner) }};
