DROP TRIGGER {{ trigger.name|ident }} ON {{ table|qname }};
