"""Following a dossier (tra cứu hồ sơ): the status interface a province plugs into (`status`),
what residents are told (`dialogue`), and the use case (`service`)."""
