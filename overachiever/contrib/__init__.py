"""Tools built on the service that the running server does not need (e.g. the Postman
collection generator behind `overachiever postman`)."""
