DROP POLICY {{ policy.name|ident }} ON {{ table|qname }};
