{% import "_macros.sql" as m -%}
ALTER {{ m.target(target) }} RENAME TO {{ to|ident }};
