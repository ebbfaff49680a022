CREATE TYPE {{ enum_type.name|qname }} AS ENUM ({% for v in enum_type.values %}{{ v|literal }}{% if not loop.last %}, {% endif %}{% endfor %});
