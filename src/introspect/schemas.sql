-- Schemas in scope: those the project declares ($1) and those a declared role ($2) owns.
-- acl: one `PRIVILEGE grantee` item per granted privilege (an empty grantee is PUBLIC);
-- NULL when the schema has its default privileges.
SELECT n.nspname::text AS name,
       pg_get_userbyid(n.nspowner)::text AS owner,
       CASE WHEN n.nspacl IS NULL THEN NULL ELSE ARRAY(
         SELECT a.privilege_type || ' ' || CASE WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee)::text END
           FROM aclexplode(n.nspacl) a ORDER BY 1) END AS acl,
       obj_description(n.oid, 'pg_namespace') AS comment
  FROM pg_namespace n
 WHERE n.nspname = ANY($1::text[])
    OR (pg_get_userbyid(n.nspowner) = ANY($2::text[])
        AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema')
 ORDER BY 1
