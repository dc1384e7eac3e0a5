"""The offline base map of Germany: the states, and cities placed by the fitted Mercator projection."""
from __future__ import annotations

import pytest

from warehouse import germany_map as gm

GERMAN_NAMES = {
    "Baden-Württemberg", "Bayern", "Berlin", "Brandenburg", "Bremen", "Hamburg", "Hessen", "Mecklenburg-Vorpommern",
    "Niedersachsen", "Nordrhein-Westfalen", "Rheinland-Pfalz", "Saarland", "Sachsen", "Sachsen-Anhalt",
    "Schleswig-Holstein", "Thüringen",
}

# city, latitude, longitude, state id: the big cities, then the other state capitals
CITIES = [
    ("Berlin", 52.520, 13.405, "be"),
    ("Hamburg", 53.551, 9.994, "hh"),
    ("München", 48.137, 11.575, "by"),
    ("Köln", 50.938, 6.960, "nw"),
    ("Dresden", 51.050, 13.738, "sn"),
    ("Freiburg", 47.999, 7.842, "bw"),
    ("Kiel", 54.323, 10.123, "sh"),
    ("Rostock", 54.092, 12.099, "mv"),
    ("Saarbrücken", 49.234, 6.997, "sl"),
    ("Bremen", 53.079, 8.802, "hb"),
    ("Hannover", 52.376, 9.732, "ni"),
    ("Potsdam", 52.391, 13.065, "bb"),
    ("Magdeburg", 52.121, 11.628, "st"),
    ("Erfurt", 50.985, 11.030, "th"),
    ("Wiesbaden", 50.078, 8.240, "he"),
    ("Mainz", 49.993, 8.247, "rp"),
    ("Stuttgart", 48.776, 9.183, "bw"),
    ("Schwerin", 53.636, 11.401, "mv"),
    ("Düsseldorf", 51.228, 6.774, "nw"),
]


def test_all_sixteen_states_with_german_names() -> None:
    states = gm.states()
    assert {s.name for s in states} == GERMAN_NAMES
    assert len({s.id for s in states}) == 16
    for s in states:
        assert gm.rings(s.path), s.name
    assert gm.view_box() == "0 0 586 793"
    assert "MapSVG" in gm.attribution() and "CC BY 4.0" in gm.attribution()


@pytest.mark.parametrize(("city", "lat", "lon", "state_id"), CITIES, ids=[c[0] for c in CITIES])
def test_city_falls_inside_its_state_only(city: str, lat: float, lon: float, state_id: str) -> None:
    x, y = gm.place(lat, lon)
    assert gm.inside(x, y)
    hits = [s.id for s in gm.states() if gm.contains(s.path, x, y)]
    assert hits == [state_id], f"{city} placed at ({x:.1f}, {y:.1f})"


def test_extreme_points_of_germany_lie_on_the_edges_of_the_map() -> None:
    min_x, min_y, max_x, max_y = gm.map_bbox()
    west = gm.place(51.050, 5.866)  # Isenbruch, Selfkant
    east = gm.place(51.273, 15.042)  # Neiße near Zentendorf
    north = gm.place(55.058, 8.417)  # Ellenbogen, List on Sylt
    south = gm.place(47.270, 10.178)  # Haldenwanger Eck
    tolerance = 1.5  # SVG units, about 1.5 km
    assert west[0] == pytest.approx(min_x, abs=tolerance)
    assert east[0] == pytest.approx(max_x, abs=tolerance)
    assert north[1] == pytest.approx(min_y, abs=tolerance)
    assert south[1] == pytest.approx(max_y, abs=tolerance)
    assert all(gm.inside(*p) for p in (west, east, north, south))


@pytest.mark.parametrize(("lat", "lon"), [(48.857, 2.352), (48.208, 16.373), (55.676, 12.568)],
                         ids=["Paris", "Wien", "København"])
def test_city_abroad_is_not_inside(lat: float, lon: float) -> None:
    assert not gm.inside(*gm.place(lat, lon))


def test_place_rejects_a_pole() -> None:
    with pytest.raises(ValueError):
        gm.place(90.0, 0.0)


def test_path_parser_commands_and_holes() -> None:
    # a 10x10 square drawn with absolute M H V Z, a hole winding the other way drawn with relative m l h v z
    square = "M 0,0 H 10 V 10 H 0 Z m 3,3 0,4 h 4 v -4 z"
    assert gm.rings(square) == (((0, 0), (10, 0), (10, 10), (0, 10)), ((3, 3), (3, 7), (7, 7), (7, 3)))
    assert gm.contains(square, 1, 1) and not gm.contains(square, 5, 5) and not gm.contains(square, 11, 5)
    # a cubic curve (absolute and relative) is sampled: its points stay within the hull of its control points
    curve = gm.rings("M0 0C0 10 10 10 10 0c0-10-10-10-10 0z")[0]
    assert len(curve) == 1 + 2 * 8 and all(-10 <= y <= 10 for _, y in curve)
    assert gm.contains("M0 0C0 10 10 10 10 0c0-10-10-10-10 0z", 5, 5)
    with pytest.raises(ValueError):
        gm.rings("M 0 0 A 5 5 0 0 1 10 0 Z")
