"""The HTTP adapter: problems, authentication, routing, paging, JSON, OpenAPI, headers, health."""
