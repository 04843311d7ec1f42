"""Schematic geography of the demo in WGS 84 lon/lat (EPSG:4326).

Motorways, junctions and river courses are hand-digitised approximations (a few hundred
metres to about 2 km off), not survey data: no open motorway geometry was at hand. Towns
are approximate town-centre points used to place synthetic estates near settlements.
"""

from __future__ import annotations

from typing import Final

LonLat = tuple[float, float]

#: Motorway reference -> polyline (north/west to south/east).
MOTORWAYS: Final[dict[str, tuple[LonLat, ...]]] = {
    "A 9": ((12.46, 51.96), (12.36, 51.87), (12.302, 51.827), (12.268, 51.787),
            (12.259, 51.713), (12.238, 51.640), (12.218, 51.563), (12.208, 51.478),
            (12.190, 51.418), (12.180, 51.357), (12.110, 51.300), (12.065, 51.245),
            (12.015, 51.195), (11.957, 51.120), (11.935, 51.030), (11.920, 50.940)),
    "A 14": ((11.72, 51.84), (11.780, 51.680), (11.880, 51.610), (11.930, 51.585),
             (11.960, 51.555), (12.010, 51.545), (12.065, 51.520), (12.140, 51.455),
             (12.190, 51.418), (12.240, 51.425), (12.330, 51.425), (12.420, 51.415),
             (12.505, 51.385), (12.555, 51.340), (12.610, 51.300), (12.730, 51.260),
             (12.870, 51.230), (12.980, 51.170)),
    "A 38": ((11.00, 51.48), (11.250, 51.455), (11.325, 51.447), (11.415, 51.405),
             (11.600, 51.375), (11.770, 51.370), (11.855, 51.372), (11.955, 51.375),
             (11.985, 51.330), (12.025, 51.290), (12.065, 51.245), (12.140, 51.245),
             (12.255, 51.255), (12.350, 51.240), (12.400, 51.232), (12.470, 51.262),
             (12.500, 51.275), (12.555, 51.340)),
    "A 143": ((11.930, 51.585), (11.850, 51.530), (11.860, 51.480), (11.850, 51.420),
              (11.855, 51.372)),
    "A 72": ((12.400, 51.232), (12.425, 51.190), (12.460, 51.145), (12.495, 51.105),
             (12.540, 51.050), (12.620, 50.980), (12.720, 50.920)),
}

#: Junctions: (name, motorway refs, lon, lat). AS = Anschlussstelle, AK/AD = Kreuz/Dreieck.
JUNCTIONS: Final[tuple[tuple[str, str, float, float], ...]] = (
    ("AS Dessau-Süd", "A 9", 12.268, 51.787),
    ("AS Thurland", "A 9", 12.259, 51.713),
    ("AS Bitterfeld-Wolfen", "A 9", 12.238, 51.640),
    ("AS Halle (Brehna)", "A 9", 12.218, 51.563),
    ("AS Wiedemar", "A 9", 12.208, 51.478),
    ("AK Schkeuditz", "A 9; A 14", 12.190, 51.418),
    ("AS Leipzig-West", "A 9", 12.180, 51.357),
    ("AS Bad Dürrenberg", "A 9", 12.110, 51.300),
    ("AK Rippachtal", "A 9; A 38", 12.065, 51.245),
    ("AS Weißenfels", "A 9", 12.015, 51.195),
    ("AS Naumburg", "A 9", 11.957, 51.120),
    ("AS Könnern", "A 14", 11.780, 51.680),
    ("AS Löbejün", "A 14", 11.880, 51.610),
    ("AD Halle-Nord", "A 14; A 143", 11.930, 51.585),
    ("AS Halle-Trotha", "A 14", 11.960, 51.555),
    ("AS Halle-Tornau", "A 14", 12.010, 51.545),
    ("AS Halle-Peißen", "A 14", 12.065, 51.520),
    ("AS Großkugel", "A 14", 12.140, 51.455),
    ("AS Leipzig-Nord", "A 14", 12.330, 51.425),
    ("AS Leipzig-Mitte", "A 14", 12.420, 51.415),
    ("AS Leipzig-Ost", "A 14", 12.505, 51.385),
    ("AD Parthenaue", "A 14; A 38", 12.555, 51.340),
    ("AS Naunhof", "A 14", 12.610, 51.300),
    ("AS Grimma", "A 14", 12.730, 51.260),
    ("AS Mutzschen", "A 14", 12.870, 51.230),
    ("AS Sangerhausen-West", "A 38", 11.250, 51.455),
    ("AS Sangerhausen-Süd", "A 38", 11.325, 51.447),
    ("AS Allstedt", "A 38", 11.415, 51.405),
    ("AS Querfurt", "A 38", 11.600, 51.375),
    ("AS Schafstädt", "A 38", 11.770, 51.370),
    ("AD Halle-Süd", "A 38; A 143", 11.855, 51.372),
    ("AS Merseburg-Nord", "A 38", 11.955, 51.375),
    ("AS Merseburg-Süd", "A 38", 11.985, 51.330),
    ("AS Leuna", "A 38", 12.025, 51.290),
    ("AS Lützen", "A 38", 12.140, 51.245),
    ("AS Leipzig-Südwest", "A 38", 12.255, 51.255),
    ("AS Leipzig-Süd", "A 38", 12.350, 51.240),
    ("AK Leipzig-Süd", "A 38; A 72", 12.400, 51.232),
    ("AS Leipzig-Südost", "A 38", 12.470, 51.262),
    ("AS Salzmünde", "A 143", 11.850, 51.530),
    ("AS Halle-Neustadt", "A 143", 11.860, 51.480),
    ("AS Teutschenthal", "A 143", 11.850, 51.420),
    ("AS Rötha", "A 72", 12.425, 51.190),
    ("AS Borna-Nord", "A 72", 12.460, 51.145),
    ("AS Borna", "A 72", 12.495, 51.105),
    ("AS Frohburg", "A 72", 12.540, 51.050),
)

AIRPORT: Final[tuple[str, float, float]] = ("Flughafen Leipzig/Halle", 12.236, 51.424)

#: Rail freight terminals / Güterverkehrszentren: (name, lon, lat).
KV_TERMINALS: Final[tuple[tuple[str, float, float], ...]] = (
    ("KV-Terminal Leipzig-Wahren", 12.325, 51.372),
    ("GVZ Leipzig", 12.310, 51.435),
    ("KV-Terminal Halle (Saale)", 11.990, 51.470),
    ("KV-Terminal Schkopau", 11.945, 51.395),
)

#: Towns: municipality name (VG250) -> (lon, lat, weight for placing estates).
TOWNS: Final[dict[str, tuple[float, float, int]]] = {
    "Leipzig": (12.375, 51.340, 5), "Halle (Saale)": (11.970, 51.480, 5),
    "Borna": (12.497, 51.124, 3), "Grimma": (12.725, 51.236, 3), "Wurzen": (12.739, 51.368, 3),
    "Markkleeberg": (12.370, 51.278, 2), "Markranstädt": (12.220, 51.300, 2),
    "Zwenkau": (12.325, 51.218, 1), "Böhlen": (12.385, 51.200, 2), "Naunhof": (12.590, 51.277, 1),
    "Brandis": (12.610, 51.335, 1), "Bad Lausick": (12.645, 51.145, 1),
    "Geithain": (12.697, 51.055, 1), "Colditz": (12.807, 51.130, 1),
    "Groitzsch": (12.283, 51.155, 1), "Neukieritzsch": (12.410, 51.150, 1),
    "Frohburg": (12.555, 51.057, 1),
    "Delitzsch": (12.340, 51.526, 3), "Eilenburg": (12.630, 51.460, 3),
    "Torgau": (13.005, 51.560, 3), "Oschatz": (13.107, 51.300, 3),
    "Schkeuditz": (12.222, 51.397, 3), "Taucha": (12.490, 51.380, 2),
    "Bad Düben": (12.585, 51.593, 1), "Wiedemar": (12.190, 51.470, 2),
    "Rackwitz": (12.375, 51.445, 1), "Krostitz": (12.450, 51.460, 1),
    "Mügeln": (13.045, 51.235, 1), "Dahlen": (12.990, 51.365, 1),
    "Belgern-Schildau": (13.120, 51.480, 1), "Wermsdorf": (12.940, 51.280, 1),
    "Beilrode": (13.070, 51.570, 1),
    "Bitterfeld-Wolfen": (12.310, 51.630, 4), "Köthen (Anhalt)": (11.970, 51.750, 3),
    "Zerbst/Anhalt": (12.085, 51.965, 2), "Sandersdorf-Brehna": (12.230, 51.600, 3),
    "Zörbig": (12.117, 51.628, 2), "Raguhn-Jeßnitz": (12.300, 51.690, 1),
    "Südliches Anhalt": (12.050, 51.670, 1), "Aken (Elbe)": (12.045, 51.855, 1),
    "Muldestausee": (12.370, 51.640, 1), "Osternienburger Land": (12.030, 51.800, 1),
    "Weißenfels": (11.970, 51.200, 3), "Naumburg (Saale)": (11.810, 51.153, 3),
    "Zeitz": (12.140, 51.050, 3), "Hohenmölsen": (12.100, 51.157, 2),
    "Lützen": (12.140, 51.257, 1), "Teuchern": (12.020, 51.120, 1),
    "Elsteraue": (12.200, 51.100, 1), "Freyburg (Unstrut)": (11.770, 51.210, 1),
    "Nebra (Unstrut)": (11.580, 51.290, 1), "Osterfeld": (11.930, 51.080, 1),
    "Sangerhausen": (11.300, 51.470, 3), "Eisleben": (11.545, 51.528, 3),
    "Hettstedt": (11.510, 51.650, 2), "Mansfeld": (11.450, 51.590, 1),
    "Allstedt": (11.385, 51.400, 1), "Gerbstedt": (11.625, 51.630, 1),
    "Seegebiet Mansfelder Land": (11.700, 51.480, 1), "Südharz": (11.100, 51.500, 1),
    "Merseburg": (11.995, 51.355, 3), "Leuna": (12.015, 51.320, 3),
    "Schkopau": (11.955, 51.390, 2), "Bad Dürrenberg": (12.065, 51.295, 1),
    "Querfurt": (11.600, 51.380, 2), "Landsberg": (12.160, 51.530, 2),
    "Kabelsketal": (12.110, 51.445, 2), "Braunsbedra": (11.890, 51.285, 1),
    "Teutschenthal": (11.800, 51.455, 1), "Petersberg": (11.960, 51.590, 1),
    "Wettin-Löbejün": (11.850, 51.620, 1), "Bad Lauchstädt": (11.870, 51.385, 1),
    "Mücheln (Geiseltal)": (11.800, 51.295, 1),
    "Altenburg": (12.435, 50.987, 3), "Schmölln": (12.350, 50.895, 2),
    "Meuselwitz": (12.300, 51.045, 2), "Lucka": (12.330, 51.095, 1),
    "Gößnitz": (12.430, 50.890, 1), "Nobitz": (12.490, 50.975, 1), "Rositz": (12.370, 51.020, 1),
}

#: Towns where former lignite land (Braunkohle-Folgeflächen) of the demo lies.
LIGNITE_TOWNS: Final[tuple[str, ...]] = ("Hohenmölsen", "Elsteraue", "Teuchern", "Zeitz")

#: Rivers with schematic floodplains: name -> (half width of the floodplain in m, course).
RIVERS: Final[dict[str, tuple[float, tuple[LonLat, ...]]]] = {
    "Saale": (550.0, ((11.69, 50.98), (11.71, 51.08), (11.72, 51.13), (11.80, 51.16),
                      (11.90, 51.18), (11.97, 51.20), (12.02, 51.25), (12.06, 51.29),
                      (11.99, 51.36), (11.96, 51.40), (11.94, 51.48), (11.92, 51.53),
                      (11.81, 51.58), (11.78, 51.64), (11.77, 51.69), (11.74, 51.79),
                      (11.78, 51.90), (11.86, 51.99))),
    "Weiße Elster": (420.0, ((12.10, 50.90), (12.13, 50.99), (12.14, 51.05), (12.20, 51.10),
                             (12.25, 51.17), (12.31, 51.22), (12.34, 51.29), (12.33, 51.34),
                             (12.26, 51.38), (12.20, 51.40), (12.08, 51.41), (11.99, 51.42),
                             (11.96, 51.43))),
    "Pleiße": (260.0, ((12.40, 50.86), (12.43, 50.93), (12.45, 50.99), (12.43, 51.06),
                       (12.42, 51.12), (12.39, 51.20), (12.37, 51.28), (12.36, 51.33))),
    "Mulde": (650.0, ((12.82, 51.08), (12.80, 51.14), (12.73, 51.24), (12.75, 51.30),
                      (12.74, 51.37), (12.68, 51.42), (12.63, 51.46), (12.60, 51.53),
                      (12.59, 51.59), (12.48, 51.64), (12.40, 51.65), (12.31, 51.69),
                      (12.27, 51.77), (12.23, 51.85))),
    "Elbe": (1300.0, ((13.26, 51.30), (13.19, 51.38), (13.10, 51.47), (13.01, 51.56),
                      (12.88, 51.64), (12.80, 51.71), (12.70, 51.80), (12.64, 51.86),
                      (12.45, 51.87), (12.25, 51.86), (12.05, 51.86), (11.92, 51.90))),
}

#: Larger lakes (mostly flooded open-cast mines) kept free of estates: (name, lon, lat,
#: radius in m); circles are a rough stand-in for the shorelines.
LAKES: Final[tuple[tuple[str, float, float, float], ...]] = (
    ("Goitzsche", 12.360, 51.615, 2200.0), ("Muldestausee", 12.385, 51.665, 1800.0),
    ("Geiseltalsee", 11.905, 51.315, 2300.0), ("Cospudener See", 12.345, 51.270, 1300.0),
    ("Zwenkauer See", 12.305, 51.230, 1600.0), ("Markkleeberger See", 12.405, 51.262, 1000.0),
    ("Störmthaler See", 12.455, 51.240, 1200.0), ("Hainer See", 12.450, 51.165, 1100.0),
    ("Schladitzer See", 12.330, 51.450, 900.0), ("Werbeliner See", 12.390, 51.470, 1200.0),
    ("Süßer See", 11.670, 51.490, 1300.0), ("Gröberner See", 12.450, 51.700, 1200.0),
)
