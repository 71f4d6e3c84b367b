"""HTTP routers and schemas; one module per resource."""
