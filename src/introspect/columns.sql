-- Columns of the tables in the schemas in scope ($1), in their order. acl as in schemas.sql.
SELECT n.nspname::text AS schema, c.relname::text AS table_name, a.attname::text AS name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       tn.nspname::text AS type_schema, coalesce(et.typname, t.typname)::text AS type_name,
       a.attnotnull AS not_null, a.attidentity::text AS identity, a.attgenerated::text AS generated,
       pg_get_expr(ad.adbin, ad.adrelid) AS default_expr,
       col_description(c.oid, a.attnum) AS comment,
       CASE WHEN a.attacl IS NULL THEN NULL ELSE ARRAY(
         SELECT x.privilege_type || ' ' || CASE WHEN x.grantee = 0 THEN '' ELSE pg_get_userbyid(x.grantee)::text END
           FROM aclexplode(a.attacl) x ORDER BY 1) END AS acl
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
  JOIN pg_namespace tn ON tn.oid = coalesce(et.typnamespace, t.typnamespace)
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
 WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
   AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY 1, 2, a.attnum
