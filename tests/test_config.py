"""sources.yml validation: good files load, malformed ones are refused naming file, entry and key."""
from __future__ import annotations

from pathlib import Path

import pytest

from scrapers.config import PROJECT_ROOT, SourcesFileError, load_sources

GOOD = """
sources:
  - id: dresden
    name: Dresden
    kind: municipal
    city: Dresden
    listings: [https://smartcity.dresden.de/news/neuigkeiten]
    url_pattern: '^https://smartcity\\.dresden\\.de/news/'
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_project_sources_file_is_valid():
    sources = load_sources(PROJECT_ROOT / "sources.yml")
    assert {s.id for s in sources} >= {"dresden", "dortmund", "dlr", "smart_city_dialog"}
    assert all(not s.allow_private_network for s in sources)


def test_defaults_and_hosts(tmp_path):
    (source,) = load_sources(write(tmp_path, GOOD))
    assert source.feeds == [] and source.rate_limit == 1.0 and source.concurrency == 2
    assert source.hosts == {"smartcity.dresden.de"}
    assert source.matches("https://smartcity.dresden.de/news/neuigkeiten/x")
    assert not source.matches("https://other.example/news/x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("municipal", "city-state"), "entry 1 (id 'dresden'): key 'kind'"),
        (GOOD.replace("    city: Dresden", "    city: Dresden\n    colour: red"), "key 'colour'"),
        (GOOD.replace("https://smartcity.dresden.de/news/neuigkeiten]", "ftp://x/y]"), "key 'listings"),
        (GOOD.replace("'^https", "'^(https"), "key 'url_pattern'"),
        (GOOD + GOOD.split("sources:")[1], "entry 2 (id 'dresden'): key 'id': duplicate"),
        ("sources: {}", "a list under the key 'sources'"),
        ("sources: [\n", "not valid YAML"),
    ],
)
def test_malformed_files_name_file_entry_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(SourcesFileError) as caught:
        load_sources(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(SourcesFileError, match="file not found"):
        load_sources(tmp_path / "nope.yml")


def test_an_entry_point_with_an_impossible_port_is_refused_when_loaded():
    import pytest
    from pydantic import ValidationError

    from scrapers.config import Source

    with pytest.raises(ValidationError, match="is not a valid URL"):
        Source.model_validate({"id": "x", "name": "X", "kind": "other", "listings": ["http://x.de:99999/news/"]})
    with pytest.raises(ValidationError, match="is not a valid URL"):
        Source.model_validate({"id": "x", "name": "X", "kind": "other", "feeds": ["http://[zz/rss"]})
