{% if granted %}GRANT USAGE ON SCHEMA {{ name|ident }} TO PUBLIC;{% else %}REVOKE ALL ON SCHEMA {{ name|ident }} FROM PUBLIC;{% endif %}
