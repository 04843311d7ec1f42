"""OGC API – Features: the published collections, their documents, and pages of items."""
