"""Cutting sources into shards by host: the K/N spec, an exact and stable partition, one shard per host."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scrapers.config import PROJECT_ROOT, Source
from scrapers.shards import check_shard, home_host, parse_shard, shard_of_host, shard_sources


def source(source_id: str, *listings: str, feeds: tuple[str, ...] = ()) -> Source:
    return Source.model_validate({"id": source_id, "name": source_id, "kind": "municipal",
                                  "listings": list(listings), "feeds": list(feeds)})


# Twelve hosts, some with several sources (a city's site and its press office), one on a port of its own.
SOURCES = [source(f"s{n}", f"https://city{n % 12}.example/news/{n}/") for n in range(30)] + [
    source("port", "http://city1.example:8080/news/"),
    source("multi", "https://www.zeta.example/presse/", feeds=("https://alpha.example/feed.xml",)),
]


def assignment(sources: list[Source], shards: int) -> dict[str, int]:
    """Which shard each source id lands in."""
    return {s.id: k for k in range(1, shards + 1) for s in shard_sources(sources, k, shards)}


@pytest.mark.parametrize(("spec", "expected"), [("1/1", (1, 1)), ("2/3", (2, 3)), (" 3 / 3 ", (3, 3)),
                                                ("10/12", (10, 12))])
def test_a_valid_shard_spec_parses(spec, expected):
    assert parse_shard(spec) == expected


@pytest.mark.parametrize(("spec", "message"), [
    ("0/3", "shard 0 of 3"), ("3/2", "shard 3 of 2"), ("1/0", "shard 1 of 0"),
    ("a/b", "is not a shard"), ("", "is not a shard"), ("2", "is not a shard"), ("-1/3", "is not a shard"),
    ("1/2/3", "is not a shard"), ("1.5/3", "is not a shard"),
])
def test_an_invalid_shard_spec_is_refused_with_a_clear_message(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_shard(spec)


@pytest.mark.parametrize(("shard", "shards"), [(0, 1), (2, 1), (1, 0), (-1, 3)])
def test_shard_sources_refuses_a_shard_outside_its_count(shard, shards):
    with pytest.raises(ValueError, match="numbered 1 to N"):
        shard_sources(SOURCES, shard, shards)
    with pytest.raises(ValueError):
        check_shard(shard, shards)


@pytest.mark.parametrize("shards", [1, 2, 3, 4, 5])
def test_every_source_lands_in_exactly_one_shard(shards):
    picked = [s.id for k in range(1, shards + 1) for s in shard_sources(SOURCES, k, shards)]
    assert sorted(picked) == sorted(s.id for s in SOURCES)  # none lost, none twice
    if shards > 1:
        assert len(set(assignment(SOURCES, shards).values())) > 1  # twelve hosts do not all hash alike


@pytest.mark.parametrize("shards", [2, 3, 5])
def test_all_sources_of_a_host_land_in_the_same_shard(shards):
    placed = assignment(SOURCES, shards)
    by_host: dict[str, set[int]] = {}
    for s in SOURCES:
        by_host.setdefault(home_host(s), set()).add(placed[s.id])
    assert all(len(found) == 1 for found in by_host.values()), by_host
    assert len(by_host) == 14  # twelve cities, a port of city1 on its own, and the multi-host source


def test_a_shard_keeps_the_order_of_the_sources_file():
    for k in (1, 2, 3):
        chosen = shard_sources(SOURCES, k, 3)
        assert chosen == [s for s in SOURCES if s in chosen]


def test_the_assignment_is_stable_and_independent_of_the_source_order():
    first = assignment(SOURCES, 3)
    assert assignment(SOURCES, 3) == first
    assert assignment(list(reversed(SOURCES)), 3) == first
    assert assignment(SOURCES[::2], 3) == {k: v for k, v in first.items() if k in {s.id for s in SOURCES[::2]}}


def test_the_assignment_is_the_same_in_another_process_with_another_hash_seed():
    hosts = sorted({home_host(s) for s in SOURCES})
    here = [shard_of_host(h, 5) for h in hosts]
    code = ("import sys; from scrapers.shards import shard_of_host; "
            "print([shard_of_host(h, 5) for h in sys.argv[1:]])")
    for seed in ("1", "4242"):
        there = subprocess.run([sys.executable, "-c", code, *hosts], cwd=PROJECT_ROOT, capture_output=True,
                               text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        assert there.stdout.strip() == str(here)


def test_a_host_is_sharded_whatever_its_case():
    assert all(shard_of_host("City1.Example", n) == shard_of_host("city1.example", n) for n in range(1, 8))


def test_shard_of_host_is_within_one_to_n():
    for n in range(1, 8):
        assert {shard_of_host(f"host{i}.example", n) for i in range(200)} == set(range(1, n + 1))


def test_the_home_host_does_not_depend_on_the_order_of_the_entry_points():
    one = source("x", "https://www.zeta.example/a/", "https://alpha.example/b/", feeds=("https://mid.example/f",))
    other = source("x", "https://alpha.example/b/", "https://www.zeta.example/a/", feeds=("https://mid.example/f",))
    moved = source("x", "https://mid.example/f", feeds=("https://www.zeta.example/a/", "https://alpha.example/b/"))
    assert home_host(one) == home_host(other) == home_host(moved) == "alpha.example"
    assert {shard_of_host(home_host(s), 4) for s in (one, other, moved)} == {shard_of_host("alpha.example", 4)}


def test_a_port_is_part_of_the_home_host():
    assert home_host(source("p", "http://city1.example:8080/news/")) == "city1.example:8080"
    assert home_host(source("q", "https://city1.example:443/news/")) == "city1.example"


def test_sources_that_share_a_host_always_share_a_shard():
    from scrapers.shards import host_groups

    entries = [("a", ["https://x.example/feed", "https://y.example/news"]), ("b", ["https://y.example/list"]),
               ("c", ["https://z.example/feed"]), ("d", ["https://w.example/", "https://z.example/map.xml"]),
               ("e", ["https://v.example/"])]
    sources = [Source(id=i, name=i, kind="municipal", feeds=urls) for i, urls in entries]
    groups = host_groups(sources)
    assert groups["a"] == groups["b"] == "x.example" and groups["c"] == groups["d"] == "w.example"
    assert groups["e"] == "v.example"
    for shards in range(1, 6):
        placed = {s.id: k for k in range(1, shards + 1) for s in shard_sources(sources, k, shards)}
        assert placed.keys() == {i for i, _ in entries}
        assert placed["a"] == placed["b"] and placed["c"] == placed["d"]
