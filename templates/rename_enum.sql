ALTER TYPE {{ from|qname }} RENAME TO {{ to|ident }};
