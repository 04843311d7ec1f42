"""The web map's page and its own scripts and styles, served at ``/karte`` (see
``app/services/web_map.py``)."""
