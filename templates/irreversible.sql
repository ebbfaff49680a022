{#- The up section destroyed data (acknowledged in the layer): refuse to pretend otherwise. -#}
{%- set body %}
BEGIN
  RAISE EXCEPTION USING
    MESSAGE = {{ ("migration " ~ migration ~ " cannot be rolled back: it destroyed data (" ~ losses|join("; ") ~ ")")|literal }},
    HINT = {{ "restore from a backup, or write a new layer that re-creates what you need"|literal }};
END
{% endset -%}
DO {{ body|dollar }};
