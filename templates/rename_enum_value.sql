ALTER TYPE {{ enum_name|qname }} RENAME VALUE {{ from|literal }} TO {{ to|literal }};
