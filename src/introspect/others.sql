-- Objects in the schemas in scope ($1) that the catalog model has no place for, so that one
-- nobody declared is still seen: materialized views, foreign tables, composite types,
-- domains, range types, procedures, aggregates, window functions, rewrite rules.
-- Extension members excluded.
SELECT n.nspname::text AS schema, c.relname::text AS name,
       CASE c.relkind WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' ELSE 'composite type' END AS kind,
       CASE WHEN c.relkind = 'm' THEN pg_get_viewdef(c.oid) END AS definition
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('m', 'f', 'c') AND n.nspname = ANY($1::text[])
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT n.nspname::text, t.typname::text,
       CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'range type' END,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype IN ('d', 'r') AND n.nspname = ANY($1::text[])
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
UNION ALL
SELECT n.nspname::text, p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'window function' END,
       CASE WHEN p.prokind = 'p' THEN pg_get_functiondef(p.oid) END
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.prokind IN ('p', 'a', 'w') AND n.nspname = ANY($1::text[])
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT n.nspname::text, c.relname::text || ' rule ' || r.rulename::text, 'rule', pg_get_ruledef(r.oid)
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE r.rulename <> '_RETURN' AND n.nspname = ANY($1::text[])
 ORDER BY 1, 2, 3
