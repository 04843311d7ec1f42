"""Development tools of GEFIS-MD that are not part of the service (package ``app``).

Nothing in ``app`` imports from here; the service image does not need these modules or
their extra dependencies (see the ``demo`` extra in ``pyproject.toml``).
"""
