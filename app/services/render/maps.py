"""Maps as PNG images (matplotlib, Agg): district choropleths and the site map of a profile.

Geometries come as WKB in EPSG:25832 (ETRS89 / UTM 32N, metres) and are drawn in that CRS
with equal aspect, so distances on the image are true to scale; the site map carries a scale
bar in kilometres and a north arrow (grid north; in the region it differs from true north by
about 2°). Labels are German, numbers written the German way, sized to be read at A4.

Output is deterministic: the same input gives the same bytes (no timestamp or version in
the PNG). Figures are built without ``pyplot``, so rendering is safe in worker threads.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path
from shapely import wkb
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.ops import polylabel

from app.domain import vocab
from app.services.render.classes import class_breaks, class_colours, class_labels, class_of
from app.services.render.html import number_de
from app.services.render.palette import AVAILABILITY_COLOURS, BOUNDARY_COLOUR

#: The attribution drawn on every map showing administrative boundaries.
MAP_ATTRIBUTION = "Verwaltungsgrenzen © GeoBasis-DE / BKG 2017"
NO_DATA_LABEL = "keine Daten"
NO_DATA_COLOUR = "#e0e0e0"
_INK = "#1d2733"
_MUTED = "#5b6672"
_HALO = [patheffects.withStroke(linewidth=2.6, foreground="white")]
#: PNG metadata that would otherwise name the matplotlib version.
_PNG_METADATA = {"Software": None}


@dataclass(frozen=True)
class MapArea:
    """One area of a choropleth."""

    geom_wkb: bytes          # (Multi)Polygon, EPSG:25832
    value: float | None      # None: no data (hatched/grey)
    label: str               # drawn at the representative point (short name)


@dataclass(frozen=True)
class SiteMapParcel:
    """One parcel on a site map."""

    geom_wkb: bytes          # (Multi)Polygon, EPSG:25832
    availability: str        # code of vocab.AVAILABILITY
    label: str               # short label, e.g. the parcel's number in the profile's table


# --- drawing -----------------------------------------------------------------------------

def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry]
    if isinstance(geometry, MultiPolygon):
        return list(geometry.geoms)
    if hasattr(geometry, "geoms"):  # a collection: its polygonal parts
        return [p for g in geometry.geoms for p in _polygons(g)]
    return []


def _path(geometry: BaseGeometry) -> Path | None:
    """A compound path of the polygons with their holes (rings oriented: shells
    counter-clockwise, holes clockwise, so the non-zero fill rule leaves holes empty)."""
    parts: list[Path] = []
    for polygon in _polygons(geometry):
        oriented = orient(polygon, 1.0)
        parts.extend(Path(list(ring.coords), closed=True)
                     for ring in (oriented.exterior, *oriented.interiors))
    return Path.make_compound_path(*parts) if parts else None


def _draw(ax: Axes, geometry: BaseGeometry, **style: object) -> None:
    path = _path(geometry)
    if path is not None:
        ax.add_patch(PathPatch(path, **style))


def _figure(width_in: float, height_in: float) -> Figure:
    figure = Figure(figsize=(width_in, height_in), facecolor="white")
    FigureCanvasAgg(figure)  # attaches itself: no pyplot, no global state
    return figure


def _png(figure: Figure, dpi: int) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=dpi, facecolor="white",
                   metadata=_PNG_METADATA)
    return out.getvalue()


def _frame(ax: Axes, bounds: tuple[float, float, float, float], pad: float) -> None:
    """Equal aspect, no ticks: the box of ``bounds`` widened by ``pad`` (a share of its
    larger side), then to the shape of the axes, so the map fills them."""
    minx, miny, maxx, maxy = bounds
    margin = max(maxx - minx, maxy - miny, 1.0) * pad
    minx, miny, maxx, maxy = minx - margin, miny - margin, maxx + margin, maxy + margin
    position = ax.get_position()
    width_in, height_in = ax.figure.get_size_inches()
    shape = (position.width * width_in) / (position.height * height_in)  # axes' width/height
    dx, dy = maxx - minx, maxy - miny
    if dx / dy < shape:
        grow = (dy * shape - dx) / 2
        minx, maxx = minx - grow, maxx + grow
    else:
        grow = (dx / shape - dy) / 2
        miny, maxy = miny - grow, maxy + grow
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])


def _label_point(shape: BaseGeometry) -> tuple[float, float]:
    """Where a label goes, in the largest part: its centroid when that lies well inside,
    else its pole of inaccessibility (for a district around a city: not in the city)."""
    parts = _polygons(shape)
    if not parts:
        point = shape.representative_point()
        return point.x, point.y
    largest = max(parts, key=lambda p: p.area)
    minx, miny, maxx, maxy = largest.bounds
    pole = polylabel(largest, tolerance=max(maxx - minx, maxy - miny) / 200)
    centroid = largest.centroid
    if (largest.contains(centroid)
            and largest.boundary.distance(centroid) >= 0.6 * largest.boundary.distance(pole)):
        return centroid.x, centroid.y
    return pole.x, pole.y


def _titles(figure: Figure, title: str, caption: str) -> None:
    """The title at the top (smaller when long, so it fits 18 cm), the caption below."""
    figure.suptitle(title, x=0.01, y=0.985, ha="left", va="top", color=_INK,
                    fontsize=max(8.0, min(11.0, 11.0 * 62 / max(len(title), 1))),
                    fontweight="bold")
    figure.text(0.01, 0.012, caption, fontsize=6.5, color=_MUTED, ha="left", va="bottom")


def _union_bounds(geometries: Iterable[BaseGeometry]) -> tuple[float, float, float, float]:
    boxes = [g.bounds for g in geometries if not g.is_empty]
    if not boxes:
        return (0.0, 0.0, 1.0, 1.0)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def choropleth_png(areas: Sequence[MapArea], *, title: str, legend_title: str, unit: str,
                   diverging: bool = False, dpi: int = 150) -> bytes:
    """A choropleth of ``areas`` as PNG: classes of their values, a German legend.

    Sequential palette (low → high) by quantile classes; with ``diverging`` six classes of
    equal width around 0 (red below, blue above). Areas without a value are hatched grey.
    The image is 18 cm wide at ``dpi``, its height follows the areas' extent.
    """
    shapes = [wkb.loads(a.geom_wkb) for a in areas]
    minx, miny, maxx, maxy = _union_bounds(shapes)
    map_width = 4.9  # inches of the map itself; the legend takes the right column
    height = min(max(map_width * (maxy - miny) / max(maxx - minx, 1.0) + 0.9, 3.2), 8.5)
    figure = _figure(7.1, height)
    ax = figure.add_axes((0.01, 0.07, 0.68, 0.84))
    ax.axis("off")
    edges, decimals = class_breaks([a.value for a in areas if a.value is not None],
                                   diverging=diverging)
    colours = class_colours(len(edges) - 1, diverging) if edges else []
    for area, shape in zip(areas, shapes, strict=True):
        if area.value is None or not colours:
            _draw(ax, shape, facecolor=NO_DATA_COLOUR, edgecolor=BOUNDARY_COLOUR,
                  linewidth=0.6, hatch="////")
        else:
            _draw(ax, shape, facecolor=colours[class_of(area.value, edges)],
                  edgecolor=BOUNDARY_COLOUR, linewidth=0.6)
    for area, shape in zip(areas, shapes, strict=True):
        if area.label and not shape.is_empty:
            x, y = _label_point(shape)
            ax.text(x, y, area.label, ha="center", va="center", fontsize=7.5, color=_INK,
                    path_effects=_HALO)
    _frame(ax, (minx, miny, maxx, maxy), 0.02)
    handles: list[Patch] = [
        Patch(facecolor=colour, edgecolor=BOUNDARY_COLOUR, linewidth=0.5, label=label)
        for colour, label in zip(colours, class_labels(edges, decimals, unit), strict=True)]
    if any(a.value is None for a in areas) or not handles:
        handles.append(Patch(facecolor=NO_DATA_COLOUR, edgecolor=BOUNDARY_COLOUR,
                             linewidth=0.5, hatch="////", label=NO_DATA_LABEL))
    figure.legend(handles=handles, title=legend_title, loc="center left",
                  bbox_to_anchor=(0.70, 0.5), frameon=False, fontsize=7.5,
                  title_fontsize=8.5, alignment="left")
    _titles(figure, title, MAP_ATTRIBUTION)
    return _png(figure, dpi)


def nice_length_m(span_m: float) -> float:
    """A round scale-bar length of at most a third of ``span_m`` metres (1, 2, 5 × 10ⁿ).

    >>> nice_length_m(1800), nice_length_m(9000), nice_length_m(300)
    (500.0, 2000.0, 100.0)
    """
    target = span_m / 3
    exponent = math.floor(math.log10(target))
    best = 10.0 ** exponent
    for step in (1.0, 2.0, 5.0):
        if step * 10.0 ** exponent <= target:
            best = step * 10.0 ** exponent
    return float(f"{best:.12g}")


def _km(metres: float) -> str:
    return f"{number_de(metres / 1000, 0 if metres >= 1000 else 1)} km"


def _scale_bar(ax: Axes) -> None:
    """A two-part black and white bar with a km label, at the lower left of the map."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length_m(x1 - x0)
    left, bottom = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    height = (y1 - y0) * 0.012
    for i, colour in enumerate((_INK, "white")):
        ax.add_patch(Rectangle((left + i * length / 2, bottom), length / 2, height,
                               facecolor=colour, edgecolor=_INK, linewidth=0.8, zorder=5))
    for x, text in ((left, "0"), (left + length, _km(length))):
        ax.text(x, bottom + height * 1.8, text, ha="center", va="bottom", fontsize=7,
                color=_INK, path_effects=_HALO, zorder=5)


def _north_arrow(ax: Axes) -> None:
    ax.annotate("N", xy=(0.95, 0.95), xytext=(0.95, 0.84), xycoords="axes fraction",
                ha="center", va="center", fontsize=9, fontweight="bold", color=_INK,
                arrowprops={"arrowstyle": "-|>", "color": _INK, "lw": 1.4}, zorder=6)


def _locator(ax: Axes, region: Sequence[BaseGeometry], district: BaseGeometry,
             district_name: str, site_point: tuple[float, float]) -> None:
    """The overview: the region's districts, the site's district highlighted, the site."""
    for shape in region:
        _draw(ax, shape, facecolor="#f3f4f6", edgecolor="#9aa3ad", linewidth=0.4)
    _draw(ax, district, facecolor="#dbe7f0", edgecolor=BOUNDARY_COLOUR, linewidth=0.9)
    ax.plot([site_point[0]], [site_point[1]], marker="o", markersize=6,
            markerfacecolor="#c2410c", markeredgecolor="white", markeredgewidth=1.0, zorder=4)
    _frame(ax, _union_bounds([*region, district]), 0.03)
    for spine in ax.spines.values():
        spine.set_edgecolor("#c9d1d9")
    ax.set_title(f"Lage im Kreis {district_name}", fontsize=7.5, color=_INK, loc="left")


def site_map_png(parcels: Sequence[SiteMapParcel], *, title: str,
                 site_outline_wkb: bytes | None, district_wkb: bytes, district_name: str,
                 region_wkbs: Sequence[bytes] = (), note: str | None = None,
                 dpi: int = 150) -> bytes:
    """The map of a site profile as PNG, 18 cm × 12 cm at ``dpi``.

    Left, the site: its parcels filled in the availability colours and labelled, the site
    outline, the district boundary where it is near, a scale bar (km) and a north arrow.
    Right, an overview of the region's districts (``region_wkbs``) with the site's district
    highlighted and the site marked, and the legend (German availability labels).
    ``note`` is added to the caption (e.g. that the parcels are synthetic).
    """
    shapes = [wkb.loads(p.geom_wkb) for p in parcels]
    outline = wkb.loads(site_outline_wkb) if site_outline_wkb else None
    district = wkb.loads(district_wkb)
    region = [wkb.loads(g) for g in region_wkbs]
    focus = [*shapes, *([outline] if outline is not None else [])] or [district]
    bounds = _union_bounds(focus)

    figure = _figure(7.1, 4.75)
    ax = figure.add_axes((0.01, 0.08, 0.66, 0.82))
    ax.set_facecolor("#fafaf7")
    for spine in ax.spines.values():
        spine.set_edgecolor("#c9d1d9")
    _frame(ax, bounds, 0.12)
    _draw(ax, district, facecolor="none", edgecolor=BOUNDARY_COLOUR, linewidth=1.2,
          linestyle=(0, (6, 3)), zorder=1)
    if outline is not None:
        _draw(ax, outline, facecolor="#eef2f6", edgecolor="#1f5f8b", linewidth=1.6,
              zorder=2)
    for parcel, shape in zip(parcels, shapes, strict=True):
        _draw(ax, shape, facecolor=AVAILABILITY_COLOURS.get(parcel.availability, "#9e9e9e"),
              edgecolor="white", linewidth=0.9, zorder=3)
    for parcel, shape in zip(parcels, shapes, strict=True):
        if parcel.label and not shape.is_empty:
            x, y = _label_point(shape)
            ax.text(x, y, parcel.label, ha="center", va="center", fontsize=8,
                    fontweight="bold", color=_INK, path_effects=_HALO, zorder=4)
    _scale_bar(ax)
    _north_arrow(ax)

    inset = figure.add_axes((0.70, 0.47, 0.28, 0.40))
    centre = ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    _locator(inset, region, district, district_name, centre)

    present = [code for code in vocab.AVAILABILITY.codes
               if any(p.availability == code for p in parcels)]
    handles: list[Patch | Line2D] = [
        Patch(facecolor=AVAILABILITY_COLOURS[code], edgecolor="white",
              label=vocab.AVAILABILITY.label(code)) for code in present]
    if outline is not None:
        handles.append(Patch(facecolor="#eef2f6", edgecolor="#1f5f8b", linewidth=1.2,
                             label="Standort"))
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    if district.boundary.intersects(box(x0, y0, x1, y1)):
        handles.append(Line2D([], [], color=BOUNDARY_COLOUR, linewidth=1.2,
                              linestyle=(0, (6, 3)), label="Kreisgrenze"))
    figure.legend(handles=handles, title="Verfügbarkeit der Flächen", loc="upper left",
                  bbox_to_anchor=(0.695, 0.42), frameon=False, fontsize=7.2,
                  title_fontsize=7.8, alignment="left")
    _titles(figure, title, f"{MAP_ATTRIBUTION}. Koordinaten: ETRS89 / UTM 32N"
            + (f". {note}" if note else ""))
    return _png(figure, dpi)
