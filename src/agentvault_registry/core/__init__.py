"""The minimal core: app factory, hookspecs, plugin manager, errors, middlewares, OpenAPI."""
