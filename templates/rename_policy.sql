ALTER POLICY {{ from|ident }} ON {{ table|qname }} RENAME TO {{ to|ident }};
