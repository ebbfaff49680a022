-- Indexes of the tables in the schemas in scope ($1) that no constraint owns. Each key is
-- a column name, or an expression as PostgreSQL prints it.
SELECT n.nspname::text AS schema, c.relname::text AS table_name, i.relname::text AS name,
       x.indisunique AS is_unique, am.amname::text AS method,
       ARRAY(SELECT CASE WHEN u.num = 0 THEN pg_get_indexdef(x.indexrelid, u.i::int, false)
                         ELSE (SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = x.indrelid AND a.attnum = u.num) END
               FROM unnest(x.indkey::int2[]) WITH ORDINALITY u(num, i)
              WHERE u.i <= x.indnkeyatts ORDER BY u.i) AS columns,
       pg_get_expr(x.indpred, x.indrelid) AS predicate,
       pg_get_indexdef(x.indexrelid) AS definition
  FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class c ON c.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_am am ON am.oid = i.relam
 WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))
 ORDER BY 1, 2, 3
