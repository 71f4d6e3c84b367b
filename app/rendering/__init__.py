"""Presentation that `api` and `web` share: the diagram's SVG, the annual report's prose,
charts and page, and the 7-minute briefing's HTML and PDF. It renders what the services
return; the services never import it."""
