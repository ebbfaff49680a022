ALTER TABLE {{ table|qname }} DROP CONSTRAINT {{ fk.name|ident }};
