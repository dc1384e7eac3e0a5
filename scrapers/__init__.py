"""Scrapers: everything between a source entry and an extracted record (discovery, fetching, extraction)."""
