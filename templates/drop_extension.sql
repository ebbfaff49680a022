DROP EXTENSION {{ extension.name|ident }};
