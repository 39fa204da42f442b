"""What the benchmark reads from /proc: CPU seconds per group of processes, the machine's busy
time (to see how much of it was someone else's), and a description of the machine."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Proc:
    pid: int
    pgrp: int
    cpu: float  # seconds, user + system
    cmdline: str


def processes() -> list[Proc]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        found.append(Proc(int(entry.name), int(fields[2]), (int(fields[11]) + int(fields[12])) / TICK, cmdline))
    return found


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle and iowait since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK


def cpu_by_group(groups: dict[str, set[int]], database: str) -> dict[str, float]:
    """CPU seconds so far of each named set of process groups, plus ``postgres``: the backends
    of our database and the server's own background processes (not other databases' backends:
    the server is shared)."""
    totals = {name: 0.0 for name in groups}
    totals["postgres"] = 0.0
    for proc in processes():
        for name, pgrps in groups.items():
            if proc.pgrp in pgrps:
                totals[name] += proc.cpu
        if proc.cmdline.startswith("postgres: "):
            backend = re.search(r"127\.0\.0\.1|\[local\]", proc.cmdline)
            if not backend or f" {database} " in proc.cmdline:
                totals["postgres"] += proc.cpu
        elif "/postgres " in proc.cmdline and " -D " in proc.cmdline:
            totals["postgres"] += proc.cpu  # the postmaster
    return totals


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    mem = re.search(r"MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text())
    pg = subprocess.run(["pg_config", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "cpu": model.group(1) if model else platform.processor(),
        "cores": str(len(os.sched_getaffinity(0))),
        "ram": f"{int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "?",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql_client": pg,
    }


def busiest_others(exclude_pgrps: set[int], seconds_before: dict[int, float], database: str) -> list[tuple[float, str]]:
    """Processes outside ours (and our database's backends) that used the most CPU since
    ``seconds_before`` was taken."""
    rows = []
    for proc in processes():
        if proc.pgrp in exclude_pgrps or f" {database} " in proc.cmdline:
            continue
        used = proc.cpu - seconds_before.get(proc.pid, 0.0)
        if used > 0.5:
            rows.append((used, proc.cmdline[:70] or f"pid {proc.pid}"))
    return sorted(rows, reverse=True)[:5]


class BackendWatch:
    """The CPU of our database's backends that exit during a phase (a pgbench client's, a
    connection closed after a job): an exited process takes its CPU time out of /proc, so
    ``cpu_by_group`` alone would miss it. Reads /proc every ``interval`` seconds while running;
    ``stop()`` returns the CPU seconds the backends that are gone had used at their last reading
    (a backend that lived less than ``interval`` is missed, so this is a lower bound)."""

    def __init__(self, database: str, interval: float = 0.2) -> None:
        self.marker = f" {database} "
        self.interval = interval
        self.last: dict[int, float] = {}
        self.ours: dict[int, bool] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> dict[int, float]:
        seen = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                stat = (entry / "stat").read_text()
                if stat[stat.index("(") + 1 : stat.rindex(")")] != "postgres":
                    continue
                if pid not in self.ours:  # the database a backend serves never changes
                    cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    self.ours[pid] = cmdline.startswith("postgres: ") and self.marker in cmdline
            except OSError:
                continue
            if self.ours[pid]:
                fields = stat[stat.rindex(")") + 2 :].split()
                seen[pid] = (int(fields[11]) + int(fields[12])) / TICK
        return seen

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            self.last.update(self._read())

    def start(self) -> None:
        self.last = self._read()
        self.thread.start()

    def stop(self) -> float:
        self.stopping.set()
        self.thread.join()
        alive = self._read()
        return sum(cpu for pid, cpu in self.last.items() if pid not in alive)
