DROP VIEW {{ view.name|qname }};
