DROP SEQUENCE {{ sequence.name|qname }};
