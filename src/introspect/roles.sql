-- Roles the project declares ($1), with the groups each is a member of and its comment.
SELECT r.rolname::text AS name,
       r.rolcanlogin AS login,
       r.rolinherit AS inherit,
       r.rolbypassrls AS bypassrls,
       r.rolcreatedb AS createdb,
       r.rolcreaterole AS createrole,
       r.rolconnlimit AS connection_limit,
       ARRAY(SELECT g.rolname::text
               FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
              WHERE m.member = r.oid
              ORDER BY 1) AS member_of,
       shobj_description(r.oid, 'pg_authid') AS comment
  FROM pg_roles r
 WHERE r.rolname = ANY($1::text[])
 ORDER BY 1
