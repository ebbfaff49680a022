ALTER {{ target|target }} RENAME TO {{ to|ident }};
