"""One package per feature: its routes (API and pages), schemas, service and
queries. A feature uses another only through its public names."""
