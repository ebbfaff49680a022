CREATE SEQUENCE {{ sequence.name|qname }} AS {{ sequence.data_type.sql }} START WITH {{ sequence.start }} INCREMENT BY {{ sequence.increment }};
