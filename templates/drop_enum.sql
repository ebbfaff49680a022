DROP TYPE {{ enum_type.name|qname }};
