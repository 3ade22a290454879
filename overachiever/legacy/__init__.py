"""The legacy layers: the article's v1.0 API and the user directory, as adapters over v2."""
