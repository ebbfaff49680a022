CREATE EXTENSION {{ extension.name|ident }}{% if extension.schema is not none %} SCHEMA {{ extension.schema|ident }}{% endif %};
