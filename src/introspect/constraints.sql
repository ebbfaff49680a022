-- Primary keys, unique, check and foreign key constraints of the tables in the schemas in
-- scope ($1). Columns are in key order.
SELECT n.nspname::text AS schema, c.relname::text AS table_name, k.conname::text AS name,
       k.contype::text AS kind,
       ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(num, i)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.i) AS columns,
       CASE WHEN k.contype = 'c' THEN pg_get_expr(k.conbin, k.conrelid) END AS check_expr,
       fn.nspname::text AS ref_schema, fc.relname::text AS ref_table,
       ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(num, i)
               JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num ORDER BY u.i) AS ref_columns,
       k.confdeltype::text AS on_delete, k.confupdtype::text AS on_update,
       pg_get_constraintdef(k.oid) AS definition
  FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class fc ON fc.oid = k.confrelid
  LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
 WHERE k.contype IN ('p', 'u', 'c', 'f', 'x') AND c.relkind IN ('r', 'p')
   AND n.nspname = ANY($1::text[])
 ORDER BY 1, 2, 3
