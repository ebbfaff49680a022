ALTER SEQUENCE {{ sequence.name|qname }} START WITH {{ sequence.start }} INCREMENT BY {{ sequence.increment }};
