"""Cutting the sources into shards by host, so that each host is crawled by one worker at a time."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from scrapers.config import Source

SHARD_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(spec: str) -> tuple[int, int]:
    """"K/N" (the K-th of N shards, from 1) as (K, N); a clear error for anything else."""
    match = SHARD_SPEC.match(spec)
    if not match:
        raise ValueError(f"{spec!r} is not a shard: write K/N, e.g. 2/3 for the second of three")
    shard, shards = int(match[1]), int(match[2])
    check_shard(shard, shards)
    return shard, shards


def check_shard(shard: int, shards: int) -> None:
    if shards < 1 or not 1 <= shard <= shards:
        raise ValueError(f"shard {shard} of {shards}: a shard is numbered 1 to N, and N is at least 1")


def home_host(source: Source) -> str:
    """The host (with its port, as written) a source is sharded by: the lowest of its declared hosts, so the
    choice does not depend on the order of its entry points."""
    return min(source.hosts)


def shard_of_host(host: str, shards: int) -> int:
    """The shard (1 to `shards`) a host belongs to: a stable hash, the same on every machine and run."""
    digest = hashlib.sha256(host.lower().encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards + 1


def host_groups(sources: Sequence[Source]) -> dict[str, str]:
    """For each source id, the key of its host group: sources that share a host, directly or through other
    sources, form one group, keyed by the lowest host in it. A group is sharded whole, so one URL is only ever
    crawled in one shard, and a host by one worker."""
    parent: dict[str, str] = {}

    def root(host: str) -> str:
        while parent.setdefault(host, host) != host:
            parent[host] = parent[parent[host]]  # path halving
            host = parent[host]
        return host

    for source in sources:
        hosts = sorted(source.hosts)
        for other in hosts[1:]:
            a, b = root(hosts[0]), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)  # the lower host stays the root: the group's key
    return {s.id: root(home_host(s)) for s in sources}


def shard_sources(sources: Sequence[Source], shard: int, shards: int) -> list[Source]:
    """The sources of shard `shard` of `shards`: whole host groups (host_groups), by a stable hash of the
    group's key, so that two workers never crawl one host or one URL at once."""
    check_shard(shard, shards)
    groups = host_groups(sources)
    return [s for s in sources if shard_of_host(groups[s.id], shards) == shard]
