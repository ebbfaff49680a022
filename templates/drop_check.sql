ALTER TABLE {{ table|qname }} DROP CONSTRAINT {{ check.name|ident }};
