-- User triggers of the tables and views in the schemas in scope ($1).
SELECT n.nspname::text AS schema, c.relname::text AS table_name, t.tgname::text AS name,
       t.tgtype::int AS tgtype, fn.nspname::text AS function_schema, f.proname::text AS function_name,
       t.tgargs AS args, t.tgnargs::int AS nargs, (t.tgqual IS NOT NULL) AS has_when,
       pg_get_triggerdef(t.oid) AS definition,
       ARRAY(SELECT a.attname::text FROM unnest(t.tgattr::int2[]) u(num)
               JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = u.num) AS update_columns
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_proc f ON f.oid = t.tgfoid
  JOIN pg_namespace fn ON fn.oid = f.pronamespace
 WHERE NOT t.tgisinternal AND n.nspname = ANY($1::text[])
 ORDER BY 1, 2, 3
