ALTER VIEW {{ from|qname }} RENAME TO {{ to|ident }};
