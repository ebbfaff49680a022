GRANT {{ group|ident }} TO {{ member|ident }};
