SELECT app.fact(10)
