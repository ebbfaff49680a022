-- Extensions the project declares ($2), and any whose objects live in a schema in scope ($1).
SELECT e.extname::text AS name, n.nspname::text AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = ANY($2::text[]) OR (n.nspname = ANY($1::text[]) AND e.extname <> 'plpgsql')
 ORDER BY 1
