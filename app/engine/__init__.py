"""The only package that imports SpiffWorkflow: parsing, specs, serialization and stepping."""
