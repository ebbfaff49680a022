{% import "_macros.sql" as m -%}
CREATE ROLE {{ role.name|ident }} WITH {{ m.role_options(role) }};
{%- if role.password_env %}
-- The password is set at deploy time from the environment variable {{ role.password_env }}.
{%- endif %}
