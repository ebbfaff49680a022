CREATE TABLE {{ table.name|qname }} (
{%- for c in table.columns %}
    {{ c.name|ident }} {{ c.data_type.sql }}{% if c.not_null %} NOT NULL{% endif %}{% if c.identity %} GENERATED {{ c.identity }} AS IDENTITY{% endif %}{% if not loop.last or table.primary_key or table.uniques %},{% endif %}
{%- endfor %}
{%- if table.primary_key %}
    CONSTRAINT {{ table.primary_key.name|ident }} PRIMARY KEY ({{ table.primary_key.columns|idents }}){% if table.uniques %},{% endif %}
{%- endif %}
{%- for u in table.uniques %}
    CONSTRAINT {{ u.name|ident }} UNIQUE ({{ u.columns|idents }}){% if not loop.last %},{% endif %}
{%- endfor %}
);
{%- if table.rls_enabled %}
ALTER TABLE {{ table.name|qname }} ENABLE ROW LEVEL SECURITY;
{%- endif %}
{%- if table.rls_forced %}
ALTER TABLE {{ table.name|qname }} FORCE ROW LEVEL SECURITY;
{%- endif %}
