SELECT string_agg(code || ',' || flag, '|' ORDER BY code) FROM app.countries
