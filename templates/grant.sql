GRANT {{ grant|privileges }} ON {{ target|target }} TO {{ grant.grantee|grantee }};
