DROP SCHEMA {{ schema.name|ident }};
