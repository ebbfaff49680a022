{% import "_macros.sql" as m -%}
ALTER ROLE {{ role.name|ident }} WITH {{ m.role_options(role) }};
