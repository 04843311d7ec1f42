"""GEFIS-MD: commercial-land information and monitoring for the Mitteldeutsches Revier."""

__version__ = "0.1.0"
