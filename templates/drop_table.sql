DROP TABLE {{ table.name|qname }};
