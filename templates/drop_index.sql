DROP INDEX {{ table.schema|ident }}.{{ index.name|ident }};
