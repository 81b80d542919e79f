"""The HTTP edge: the one error adapter (JSON or HTML), security headers, request
logging and health. Only this package and the features' route modules build responses."""
