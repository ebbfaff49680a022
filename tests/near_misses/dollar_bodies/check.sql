SELECT app.dollars() || '|' || app.nested()
