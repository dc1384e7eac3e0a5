"""The offline base map of Germany: its 16 states as SVG paths (MapSVG, CC BY 4.0) and a city's place on it."""
from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The map (site_assets/germany_states.json) is drawn in the Mercator projection of the WGS84 ellipsoid:
# x = a + b*lon, y = c - b*mercator_y(lat), mercator_y being the isometric latitude in degrees. a, b and c were
# fitted by least squares to Germany's extreme points and the states' bounding boxes (rms 0.12 SVG units, about
# 130 m). Pure: reads only that JSON file, once.
ASSET = Path(__file__).resolve().parent / "site_assets" / "germany_states.json"

Point = tuple[float, float]
Ring = tuple[Point, ...]


@dataclass(frozen=True)
class State:
    id: str  # two-letter code of the package: "bw", "by", ...
    name: str  # German name: "Baden-Württemberg", ...
    path: str  # SVG path data in the coordinates of view_box()


@functools.cache
def _data() -> dict[str, Any]:
    with ASSET.open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


@functools.cache
def _states() -> tuple[State, ...]:
    return tuple(State(s["id"], s["name"], s["path"]) for s in _data()["states"])


def states() -> list[State]:
    """The 16 states, in the order of the source (alphabetical by English name)."""
    return list(_states())


def view_box() -> str:
    return str(_data()["viewBox"])


def attribution() -> str:
    return str(_data()["attribution"])


def mercator_y(lat: float) -> float:
    """Isometric latitude on the WGS84 ellipsoid, in degrees (so that one scale serves both axes)."""
    if not -90.0 < lat < 90.0:
        raise ValueError(f"latitude out of range: {lat}")
    e = float(_data()["projection"]["e"])
    s = math.sin(math.radians(lat))
    return math.degrees(math.atanh(s) - e * math.atanh(e * s))


def place(lat: float, lon: float) -> tuple[float, float]:
    """SVG (x, y) of a WGS84 point; outside Germany the point may fall off the map (see inside)."""
    p = _data()["projection"]
    b = float(p["b"])
    return float(p["a"]) + b * lon, float(p["c"]) - b * mercator_y(lat)


def inside(x: float, y: float) -> bool:
    """Whether (x, y) falls within the map's frame, the viewBox (the states' bounding box plus < 1 unit margin)."""
    min_x, min_y, width, height = (float(v) for v in view_box().split())
    return min_x <= x <= min_x + width and min_y <= y <= min_y + height


# --- SVG path data: flattening and point-in-path -------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_ARITY = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6}
_CURVE_STEPS = 8  # points sampled on each cubic Bézier segment


def _commands(d: str) -> list[tuple[str, list[float]]]:
    out: list[tuple[str, list[float]]] = []
    for token in _TOKEN.findall(d):
        if token.isalpha():
            out.append((token, []))
        elif out:
            out[-1][1].append(float(token))
        else:
            raise ValueError("path data must start with a command")
    return out


def _cubic(p0: Point, p1: Point, p2: Point, p3: Point) -> list[Point]:
    """Points of a cubic Bézier at t = 1/n .. (n-1)/n (the end point is added by the caller)."""
    pts = []
    for k in range(1, _CURVE_STEPS):
        t = k / _CURVE_STEPS
        u = 1 - t
        w = (u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t)
        pts.append((sum(wi * p[0] for wi, p in zip(w, (p0, p1, p2, p3), strict=True)),
                    sum(wi * p[1] for wi, p in zip(w, (p0, p1, p2, p3), strict=True))))
    return pts


@functools.cache
def rings(d: str) -> tuple[Ring, ...]:
    """Flatten SVG path data (M L H V C Z, absolute and relative) into closed rings of absolute points.

    Curves are sampled; other commands (S, Q, T, A) raise ValueError. The source uses only m, implicit
    relative lineto and z.
    """
    out: list[Ring] = []
    ring: list[Point] = []
    x = y = sx = sy = 0.0
    for cmd, args in _commands(d):
        op, rel = cmd.upper(), cmd.islower()
        if op == "Z":
            if args:
                raise ValueError(f"numbers after {cmd!r}")
            if ring:
                out.append(tuple(ring))
                ring = []
            x, y = sx, sy
            continue
        n = _ARITY.get(op)
        if n is None or not args or len(args) % n:
            raise ValueError(f"unsupported or malformed path command {cmd!r} {args[:6]}")
        for k in range(0, len(args), n):
            a = args[k:k + n]
            ox, oy = (x, y) if rel else (0.0, 0.0)
            if op == "M" and k == 0:  # a new subpath; further pairs are implicit lineto
                if ring:
                    out.append(tuple(ring))
                x, y = sx, sy = ox + a[0], oy + a[1]
                ring = [(x, y)]
                continue
            if not ring:  # drawing on after a Z without a moveto
                ring = [(x, y)]
            if op in ("M", "L"):
                x, y = ox + a[0], oy + a[1]
            elif op == "H":
                x = ox + a[0]
            elif op == "V":
                y = oy + a[0]
            else:
                end = (ox + a[4], oy + a[5])
                ring.extend(_cubic((x, y), (ox + a[0], oy + a[1]), (ox + a[2], oy + a[3]), end))
                x, y = end
            ring.append((x, y))
    if ring:
        out.append(tuple(ring))
    return tuple(out)


def contains(d: str, x: float, y: float) -> bool:
    """Whether (x, y) lies inside the filled path, by SVG's default nonzero fill rule (holes wind backwards)."""
    winding = 0
    for ring in rings(d):
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            side = (x2 - x1) * (y - y1) - (x - x1) * (y2 - y1)
            if y1 <= y < y2 and side > 0:
                winding += 1
            elif y2 <= y < y1 and side < 0:
                winding -= 1
    return winding != 0


def map_bbox() -> tuple[float, float, float, float]:
    """(min_x, min_y, max_x, max_y) of all states' outlines, in SVG units."""
    pts = [p for s in _states() for ring in rings(s.path) for p in ring]
    return min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts)
