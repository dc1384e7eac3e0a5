"""Reading a process's memory from /proc, for the benchmarks' peak-RSS samplers."""
from __future__ import annotations


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
