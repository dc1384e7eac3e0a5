"""The extractors' word lists are data: every entry has a reason, and a malformed file is named precisely."""
from __future__ import annotations

import csv

import pytest

from scrapers import names, places, vocabulary
from scrapers.gazetteer import norm_key


@pytest.mark.parametrize("path", vocabulary.all_files(), ids=lambda p: p.name)
def test_every_entry_of_every_vocabulary_has_a_reason(path):
    rows = vocabulary.rows(path.stem)
    assert rows, path
    with path.open(encoding="utf-8", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == len(rows)
    assert all(row["reason"] for row in rows)


@pytest.mark.parametrize(("content", "message"), [
    ("entry,reason\nrot,a colour\nblau,\n", r"colours\.csv:3: 'blau' has no reason"),
    ("entry\nrot\n", r"colours\.csv: the header"),
    ("entry,reason\n,a colour without a name\n", r"colours\.csv:2: the 'entry' column is empty"),
])
def test_a_malformed_vocabulary_is_refused_with_file_and_line(tmp_path, monkeypatch, content, message):
    (tmp_path / "colours.csv").write_text(content, encoding="utf-8")
    monkeypatch.setattr(vocabulary, "HERE", tmp_path)
    vocabulary.rows.cache_clear()
    try:
        with pytest.raises(ValueError, match=message):
            vocabulary.rows("colours")
    finally:
        vocabulary.rows.cache_clear()


def test_the_extractors_read_their_words_from_the_files():
    assert {norm_key(n) for n in vocabulary.entries("not_cities")} == places.NOT_CITIES
    assert {norm_key(n) for n in vocabulary.entries("common_words")} == places.COMMON_WORDS


def test_given_names_come_from_a_library_not_from_our_code():
    assert names.is_given_name("Christina") and names.is_given_name("Jürgen")
    assert not names.is_given_name("Stadt") and not names.is_given_name("christina")
    assert len(names.given_names()) > 5000
