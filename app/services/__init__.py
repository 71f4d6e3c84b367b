"""Use cases, one module per resource; called alike from the API, the CLI and the worker."""
