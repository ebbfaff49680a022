ALTER TABLE {{ table|qname }} ALTER COLUMN {{ column|ident }} DROP DEFAULT;
