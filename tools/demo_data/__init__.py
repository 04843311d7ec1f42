"""Deterministic generator of the synthetic, study-calibrated GEFIS-MD demo data set.

Entry point: :func:`tools.demo_data.generate.generate` (CLI:
``scripts/make_demo_geodata.py``). Outputs go to ``geodata/demo/`` and are described in
``geodata/demo/README.md``. The study's figures it calibrates to are read from
``geodata/study/reference_figures.json``. Needs the ``demo`` extra of ``pyproject.toml``
(rasterio for the GeoTIFF rasters); the service package ``app`` never imports it.
"""
