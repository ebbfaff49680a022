{{ sql }}
