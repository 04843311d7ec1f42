"""Colours of the vocabulary codes, one scheme for maps, charts and (later) the web map.

Availability runs from dark green (now) to grey (unknown), a sequence readable in greyscale
print too; restriction levels from light to dark.
"""

from __future__ import annotations

AVAILABILITY_COLOURS: dict[str, str] = {
    "sofort": "#1a7f37",
    "kurzfristig": "#74c476",
    "mittelfristig": "#fdae6b",
    "langfristig": "#d94801",
    "unbekannt": "#9e9e9e",
}

RESTRICTION_COLOURS: dict[str, str] = {
    "keine": "#c6dbef",
    "gering": "#6baed6",
    "erhoeht": "#08519c",
    "unbekannt": "#bdbdbd",
}

#: Outline of districts and municipalities on maps.
BOUNDARY_COLOUR = "#4a4a4a"
#: Sequential scheme of choropleths (low → high), colour-blind safe (ColorBrewer YlGnBu).
SEQUENTIAL = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
#: Diverging scheme for balances (shortfall red → surplus blue), ColorBrewer RdBu.
DIVERGING = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac")
