-- Tables, views and sequences in the schemas in scope ($1); identity sequences and
-- extension members excluded. acl as in schemas.sql.
SELECT n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS kind,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
       CASE WHEN c.relacl IS NULL THEN NULL ELSE ARRAY(
         SELECT a.privilege_type || ' ' || CASE WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee)::text END
           FROM aclexplode(c.relacl) a ORDER BY 1) END AS acl,
       pg_get_userbyid(c.relowner)::text AS owner,
       obj_description(c.oid, 'pg_class') AS comment,
       CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END AS view_query,
       coalesce(c.reloptions, '{}')::text[] AS options,
       CASE WHEN c.relkind = 'S' THEN format_type(s.seqtypid, NULL) END AS seq_type,
       s.seqstart AS seq_start, s.seqincrement AS seq_increment
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_sequence s ON s.seqrelid = c.oid
 WHERE c.relkind IN ('r', 'p', 'v', 'S') AND n.nspname = ANY($1::text[])
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'i'))
 ORDER BY 1, 2
