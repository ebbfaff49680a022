-- Functions in the schemas in scope ($1); extension members excluded. Argument arrays cover
-- every argument (OUT and TABLE ones included), in order. acl as in schemas.sql.
SELECT n.nspname::text AS schema, p.proname::text AS name, p.prokind::text AS kind,
       ARRAY(SELECT format_type(t, NULL) FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(t, i) ORDER BY i) AS arg_types,
       ARRAY(SELECT tn.nspname::text || '.' || coalesce(et.typname, ty.typname)::text
               FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(t, i)
               JOIN pg_type ty ON ty.oid = u.t
               LEFT JOIN pg_type et ON et.oid = ty.typelem AND ty.typcategory = 'A'
               JOIN pg_namespace tn ON tn.oid = coalesce(et.typnamespace, ty.typnamespace)
              ORDER BY i) AS arg_type_names,
       coalesce(p.proargnames, '{}')::text[] AS arg_names,
       coalesce(p.proargmodes::text[], '{}') AS arg_modes,
       ARRAY(SELECT coalesce(pg_get_function_arg_default(p.oid, i::int), '')
               FROM generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) i ORDER BY i) AS arg_defaults,
       format_type(p.prorettype, NULL) AS return_type,
       rn.nspname::text || '.' || coalesce(ret.typname, rt.typname)::text AS return_type_name,
       p.proretset AS returns_set,
       l.lanname::text AS language, p.provolatile::text AS volatility, p.proisstrict AS strict,
       p.prosecdef AS security_definer, coalesce(p.proconfig, '{}')::text[] AS config,
       pg_get_userbyid(p.proowner)::text AS owner,
       CASE WHEN p.proacl IS NULL THEN NULL ELSE ARRAY(
         SELECT a.privilege_type || ' ' || CASE WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee)::text END
           FROM aclexplode(p.proacl) a ORDER BY 1) END AS acl,
       p.prosrc AS body,
       obj_description(p.oid, 'pg_proc') AS comment
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
  JOIN pg_type rt ON rt.oid = p.prorettype
  LEFT JOIN pg_type ret ON ret.oid = rt.typelem AND rt.typcategory = 'A'
  JOIN pg_namespace rn ON rn.oid = coalesce(ret.typnamespace, rt.typnamespace)
 WHERE n.nspname = ANY($1::text[])
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
 ORDER BY 1, 2, pg_get_function_identity_arguments(p.oid)
