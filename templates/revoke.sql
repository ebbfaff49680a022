REVOKE {{ grant|privileges }} ON {{ target|target }} FROM {{ grant.grantee|grantee }};
