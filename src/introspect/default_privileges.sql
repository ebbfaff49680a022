-- Default privileges of the roles the project declares ($1); objtype r (tables), S
-- (sequences), f (functions), T (types), n (schemas). acl as in schemas.sql.
SELECT pg_get_userbyid(d.defaclrole)::text AS for_role, n.nspname::text AS in_schema,
       d.defaclobjtype::text AS object_type,
       ARRAY(SELECT a.privilege_type || ' ' || CASE WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee)::text END
               FROM aclexplode(d.defaclacl) a ORDER BY 1) AS acl
  FROM pg_default_acl d
  LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
 WHERE pg_get_userbyid(d.defaclrole) = ANY($1::text[])
 ORDER BY 1, 2 NULLS FIRST, 3
