ALTER TABLE {{ table|qname }} ADD CONSTRAINT {{ check.name|ident }} CHECK ({{ check.expr.sql }});
