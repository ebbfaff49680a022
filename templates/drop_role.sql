DROP ROLE {{ role.name|ident }};
