"""Reading processes from /proc, for the benchmarks' peak-RSS samplers: a tree of processes, and their memory."""
from __future__ import annotations

import os


def process_trees(roots: list[int]) -> list[int]:
    """The processes `roots` with all their descendants, roots first."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def rss_kb(pid: int) -> int:
    """The resident set size of process `pid` in KB; 0 when it is gone (or /proc is not there)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
