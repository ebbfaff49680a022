ALTER TABLE {{ table|qname }} ALTER COLUMN {{ column|ident }} SET DEFAULT ({{ expr.sql }});
