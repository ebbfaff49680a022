SELECT concat_ws(',',
  (SELECT count(*) FROM app.victim),
  (SELECT count(*) FROM pg_roles WHERE rolname = 'r"; DROP TABLE app.victim; --'),
  (SELECT count(*) FROM pg_namespace WHERE nspname = 's''; DROP SCHEMA app CASCADE; --'),
  (SELECT count(*) FROM pg_class WHERE relname = 't"); DROP TABLE app.victim; --' AND relkind = 'r'),
  (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('"s''; DROP SCHEMA app CASCADE; --"."t""); DROP TABLE app.victim; --"')
     AND attname IN ('c"" int); DROP TABLE app.victim; --', E'line\nbreak', 'mood')),
  (SELECT count(*) FROM pg_class WHERE relname = 'i ON app.victim; DROP TABLE app.victim; --' AND relkind = 'i'),
  (SELECT count(*) FROM pg_constraint WHERE conname IN ('pk"; DROP TABLE app.victim; --', 'u"; DROP TABLE app.victim; --', 'k"; DROP TABLE app.victim; --')),
  (SELECT count(*) FROM pg_policy WHERE polname = 'p ON app.victim USING (true); --'),
  (SELECT count(*) FROM pg_trigger WHERE tgname = 'tr"; DROP TABLE app.victim; --'),
  (SELECT count(*) FROM pg_proc WHERE proname = 'f"(); DROP TABLE app.victim; --'
     AND proargnames = ARRAY['a" int) RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql; --']),
  (SELECT replace(string_agg(enumlabel, '|' ORDER BY enumsortorder), E'\n', '\n') FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
     WHERE t.typname = 'e"; DROP TYPE x; --'),
  (SELECT count(*) FROM pg_class WHERE relname = 'q"; DROP TABLE app.victim; --' AND relkind = 'S'),
  has_column_privilege('r"; DROP TABLE app.victim; --',
     '"s''; DROP SCHEMA app CASCADE; --"."t""); DROP TABLE app.victim; --"', E'line\nbreak', 'SELECT'),
  (SELECT "line
break" FROM "s'; DROP SCHEMA app CASCADE; --"."t""); DROP TABLE app.victim; --")
)
