CREATE POLICY {{ policy.name|ident }} ON {{ table|qname }}
    AS {{ "PERMISSIVE" if policy.permissive else "RESTRICTIVE" }}
    FOR {{ policy.command }}
    TO {{ policy.roles|grantees }}
{%- if policy.using %}
    USING ({{ policy.using.sql }})
{%- endif %}
{%- if policy.with_check %}
    WITH CHECK ({{ policy.with_check.sql }})
{%- endif %};
