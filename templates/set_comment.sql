COMMENT ON {{ target|target }} IS {{ text|literal }};
