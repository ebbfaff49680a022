ALTER TABLE {{ from|qname }} RENAME TO {{ to|ident }};
