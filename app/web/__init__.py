"""The inbox in the browser: server-rendered pages for the people who run reviews."""
