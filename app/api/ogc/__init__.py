"""OGC API – Features (Parts 1–3): landing page, conformance, collections, items."""
