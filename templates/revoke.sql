{% import "_macros.sql" as m -%}
REVOKE {{ m.privileges(grant) }} ON {{ m.target(target) }} FROM {{ grant.grantee|grantee }};
