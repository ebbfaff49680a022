{% import "_macros.sql" as m -%}
GRANT {{ m.privileges(grant) }} ON {{ m.target(target) }} TO {{ grant.grantee|grantee }};
