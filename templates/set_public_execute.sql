{% if granted %}GRANT EXECUTE ON {{ target|target }} TO PUBLIC;{% else %}REVOKE EXECUTE ON {{ target|target }} FROM PUBLIC;{% endif %}
