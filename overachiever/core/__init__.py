"""Infrastructure: the database, its column types, domain errors, validation types, passwords."""
