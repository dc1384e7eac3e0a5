"""Tell people's given names from other words, with the first-name lists Faker ships for many locales."""
from __future__ import annotations

import functools
import importlib

# Locales whose given names appear in German news: German-speaking countries and the languages of the
# largest groups of immigrants and of neighbouring countries.
_LOCALES = ("de_DE", "de_AT", "de_CH", "en_US", "en_GB", "fr_FR", "it_IT", "es_ES", "nl_NL", "pl_PL", "cs_CZ",
            "da_DK", "sv_SE", "tr_TR", "ru_RU", "uk_UA", "el_GR", "pt_PT", "hu_HU", "hr_HR", "ro_RO", "ar_AA")


@functools.cache
def given_names() -> frozenset[str]:
    """Every given name of the locales above (about 9,000), as Faker spells them."""
    names: set[str] = set()
    for locale in _LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except (ImportError, AttributeError):  # a locale Faker dropped: the others still serve
            continue
        for attribute in ("first_names", "first_names_male", "first_names_female"):
            values = getattr(provider, attribute, ())
            names.update(values.keys() if isinstance(values, dict) else values)
    return frozenset(n for n in names if n[:1].isupper())


def is_given_name(word: str) -> bool:
    """Whether `word` is a given name ("Christina", "Jürgen"); lower-case words never are."""
    return word[:1].isupper() and word in given_names()
