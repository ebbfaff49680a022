CREATE SCHEMA {{ schema.name|ident }}{% if schema.owner is not none %} AUTHORIZATION {{ schema.owner|ident }}{% endif %};
