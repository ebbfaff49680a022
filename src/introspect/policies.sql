-- Row-level security policies of the tables in the schemas in scope ($1). Roles are role
-- names, or PUBLIC.
SELECT n.nspname::text AS schema, c.relname::text AS table_name, p.polname::text AS name,
       p.polpermissive AS permissive, p.polcmd::text AS command,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END
               FROM unnest(p.polroles) r ORDER BY 1) AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using_expr,
       pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr
  FROM pg_policy p
  JOIN pg_class c ON c.oid = p.polrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY($1::text[])
 ORDER BY 1, 2, 3
