"""Deterministic generator of the synthetic, study-calibrated GEFIS-MD demo data set.

Entry point: :func:`app.services.demo_data.generate.generate` (CLI:
``scripts/make_demo_geodata.py``). Outputs go to ``geodata/demo/`` and are described in
``geodata/demo/README.md``.
"""
