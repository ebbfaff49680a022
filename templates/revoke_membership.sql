REVOKE {{ group|ident }} FROM {{ member|ident }};
