"""The fault suite's processes: a private redis-server, real Celery workers, a scratch database.

Every wait has a timeout and every process is started in its own session, so a failed
scenario can always kill what it started (the whole process group) and leaves no orphans.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
# Spare ports for the private redis-server; 6379 is the shared one and is never touched.
REDIS_PORTS = range(6390, 6400)


def wait_until(predicate: Callable, *, timeout: float, what: str, interval: float = 0.2):
    """Call `predicate` until it returns something true; TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"Gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def spare_port() -> int:
    for port in REDIS_PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No spare port for redis-server in {REDIS_PORTS}")


def _stop_group(process: subprocess.Popen, *, grace: float) -> None:
    """SIGTERM the process's group, then SIGKILL what is left after `grace` seconds."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # Children (a worker's pool) may outlive their parent: sweep the whole group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def children_of(pid: int) -> list[int]:
    """The direct children of a process, read from /proc (no psutil needed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the fields follow the last ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


class RedisServer:
    """A throwaway redis-server on a spare port: no snapshot, no append-only file, so a restart
    loses every queued message, as a crashed broker without persistence would."""

    def __init__(self, workdir: Path):
        self.port = spare_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.workdir / f"redis-{self.port}.log", "ab")  # noqa: SIM115 - Popen owns it
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(self.ping, timeout=15, what=f"redis-server on port {self.port}")

    def ping(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            _stop_group(self.process, grace=5)
            self.process = None


class Worker:
    """`celery -A slaportal worker` in its own process group, run as production runs it."""

    def __init__(self, env: dict, workdir: Path, *, name: str, concurrency: int = 1):
        self.env = env
        self.log_path = workdir / f"worker-{name}.log"
        self.name = name
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        log = open(self.log_path, "ab")  # noqa: SIM115 - Popen owns it
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "slaportal",
                "worker",
                "--pool=prefork",
                f"--concurrency={self.concurrency}",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
                "-n",
                f"{self.name}-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(self._ready, timeout=60, what=f"worker {self.name} to be ready")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"Worker {self.name} exited; see {self.log_path}")
        return (
            " ready." in self.log_path.read_text(errors="replace")
            and len(self.pool()) >= self.concurrency
        )

    def pool(self) -> list[int]:
        return children_of(self.process.pid) if self.process else []

    def kill_pool(self) -> list[int]:
        """kill -9 every pool process (the ones running tasks); the main process lives on."""
        killed = self.pool()
        for pid in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return killed

    def kill(self) -> None:
        """kill -9 the whole worker: main process and pool."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            _stop_group(self.process, grace=10)
            self.process = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def database_url(url: str, name: str) -> str:
    """The same server as `url`, another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_create(url: str, name: str) -> None:
    import psycopg

    admin = database_url(url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def database_drop(url: str, name: str) -> None:
    import psycopg

    admin = database_url(url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class FaultTable:
    """The suite's result: one row per scenario, printed at the end of the run."""

    COLUMNS = ("scenario", "expected", "got", "lost", "doubled", "note")

    def __init__(self):
        self.rows: list[tuple] = []

    def add(self, scenario: str, *, expected: int, got: int, lost: int, doubled: int, note=""):
        self.rows.append((scenario, expected, got, lost, doubled, note))

    def render(self) -> str:
        table = [self.COLUMNS, *[tuple(str(cell) for cell in row) for row in self.rows]]
        widths = [max(len(str(row[i])) for row in table) for i in range(len(self.COLUMNS))]
        lines = [
            " | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in table
        ]
        lines.insert(1, "-+-".join("-" * width for width in widths))
        return "\n".join(lines)
