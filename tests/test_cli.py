"""The command line against a loopback site: exit codes, failures recorded, nothing stored is lost."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from scrapers.config import PROJECT_ROOT
from tests.conftest import Reply

STADTRADAR = Path(sys.executable).with_name("stadtradar")
pytestmark = pytest.mark.e2e

ARTICLE = """<html lang="de"><head><title>{title}</title></head><body><nav><a href="/">Start</a></nav>
<main><article><h1>{title}</h1><p class="date">Veröffentlicht am 0{n}.03.2025</p>
<p>Die Stadt Konstanz stellt ihre Smart-City-Strategie vor. Digitale Zwillinge und eine urbane Datenplattform
sollen die klimaneutrale Stadtentwicklung unterstützen. Die Verwaltung lädt zur Beteiligung ein.</p>
<p>Weitere Schritte der Digitalisierung folgen im Sommer, kündigte das Smart-City-Team an.</p></article></main>
<footer>Rathaus, Kanzleistraße 15</footer></body></html>"""


def sources_file(tmp_path: Path, base: str) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(f"""sources:
  - id: good
    name: Good site
    kind: municipal
    city: Konstanz
    listings: ["{base}/news/"]
    url_pattern: '/news/[0-9]'
    allow_private_network: true
    rate_limit: 100
  - id: down
    name: A site that is down
    kind: other
    listings: ["http://127.0.0.1:9/news/"]
    allow_private_network: true
""", encoding="utf-8")
    return path


def stadtradar(*args: str, home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_HOME": str(home / "prefect"), "STADTRADAR_RETRIES": "0", **extra}
    return subprocess.run([str(STADTRADAR), *args], cwd=PROJECT_ROOT, capture_output=True, text=True, env=env,
                          timeout=300)


def test_a_down_source_exits_2_records_the_failure_and_loses_nothing(local_site, tmp_path, prefect_api):
    site = local_site({
        "/news/": Reply('<html><body><a href="/news/1-strategie/">Eins</a><a href="/news/2-plattform/">Zwei</a>'
                        "</body></html>"),
        "/news/1-strategie/": Reply(ARTICLE.format(title="Konstanz stellt Smart-City-Strategie vor", n=1)),
        "/news/2-plattform/": Reply(ARTICLE.format(title="Datenplattform für Konstanz", n=2)),
    })
    db = tmp_path / "w.duckdb"
    sources = sources_file(tmp_path, site.base)
    first = stadtradar("ingest", "--sources", str(sources), "--db", str(db), home=tmp_path, **prefect_api)
    assert first.returncode == 2, first.stderr[-2000:]
    assert "127.0.0.1:9" in first.stderr
    con = duckdb.connect(str(db), read_only=True)
    titles = {t for (t,) in con.execute("select title from raw.articles where source_id = 'good'").fetchall()}
    errors = con.execute("select source_id, url, attempts from ops.fetch_errors").fetchall()
    con.close()
    assert titles == {"Konstanz stellt Smart-City-Strategie vor", "Datenplattform für Konstanz"}
    assert [(s, u) for s, u, _ in errors] == [("down", "http://127.0.0.1:9/news/")]

    site.close()  # now every source is down: the run fails, the warehouse keeps what it had
    second = stadtradar("ingest", "--sources", str(sources), "--db", str(db), home=tmp_path, **prefect_api)
    assert second.returncode == 2
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from raw.articles").fetchone()[0] == 2
    assert con.execute("select status from ops.runs order by started_at").fetchall() == [("partial",), ("partial",)]
    con.close()


def test_a_missing_snapshot_is_a_usage_error(tmp_path):
    done = stadtradar("run", "--replay", str(tmp_path / "nowhere"), "--db", str(tmp_path / "w.duckdb"), home=tmp_path)
    assert done.returncode == 1 and "manifest.yml" in done.stderr
