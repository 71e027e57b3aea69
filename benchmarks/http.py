"""The real HTTP stack: gunicorn with DEBUG off, and logged-in clients (stdlib only)."""

import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env() -> dict:
    """Production-like settings for the web processes (DEBUG off, HTTP on loopback)."""
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=env.get("BENCH_SECRET_KEY", "bench-only-secret-key-" + "x" * 40),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Plain HTTP on loopback: no redirect to HTTPS.
        SECURE_SSL_REDIRECT="0",
        # The bench measures the code, not the throttle.
        API_THROTTLE_USER="100000000/min",
        API_THROTTLE_ANON="100000000/min",
        LOG_LEVEL="WARNING",
        EMAIL_URL="dummymail://",
    )
    return env


class Server:
    """gunicorn slaportal.wsgi -w 2 on a free port, static files collected for DEBUG off."""

    def __init__(self, workers: int = 2):
        self.port = free_port()
        self.workers = workers
        self.process = None

    def __enter__(self):
        env = server_env()
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
            cwd=BASE_DIR,
            env=env,
            check=True,
        )
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.log = open(BASE_DIR / "var" / "bench-gunicorn.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(gunicorn), "slaportal.wsgi", "-w", str(self.workers), "-b",
             f"127.0.0.1:{self.port}", "--timeout", "600"],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _, _ = Client(self.port).request("GET", "/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def __exit__(self, *exc):
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


class Client:
    """One connection's worth of a browser: cookies, CSRF, a session."""

    def __init__(self, port: int, headers: dict | None = None):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.headers = headers or {}
        self.local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        if getattr(self.local, "connection", None) is None:
            self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        return self.local.connection

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        all_headers = {"Host": f"127.0.0.1:{self.port}", **self.headers, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            connection = self._connection()
            try:
                connection.request(method, path, body=body, headers=all_headers)
                response = connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # gunicorn's sync workers close the connection after each response.
                connection.close()
                self.local.connection = None
                if attempt:
                    raise
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            self.local.connection = None
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data, response

    def login(self, username: str, password: str) -> "Client":
        status, page, _ = self.request("GET", "/accounts/login/")
        match = CSRF_FIELD.search(page.decode())
        if status != 200 or not match:
            raise RuntimeError(f"The login page answered {status} without a CSRF token.")
        body = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": match[1]}
        ).encode()
        status, _, _ = self.request(
            "POST",
            "/accounts/login/",
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"Logging in as {username} answered {status}, no session.")
        return self

    def clone(self) -> "Client":
        """Another connection with the same session (one per thread)."""
        twin = Client(self.port, self.headers)
        twin.cookies = dict(self.cookies)
        return twin


@dataclass
class Latencies:
    seconds: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: list[str] = field(default_factory=list)

    def percentile(self, share: float) -> float | None:
        if not self.seconds:
            return None
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    @property
    def median(self):
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def per_second(self):
        return len(self.seconds) / self.wall if self.wall else None


def _get(client: Client, path: str, out: Latencies) -> None:
    started = time.perf_counter()
    status, _, _ = client.request("GET", path)
    elapsed = time.perf_counter() - started
    if status != 200:
        out.errors.append(f"{path} answered {status}")
    else:
        out.seconds.append(elapsed)


def measure(client: Client, path: str, *, clients: int, requests: int, budget: float):
    """`requests` GETs per client (fewer if `budget` seconds run out), `clients` at once."""
    _get(client, path, Latencies())  # warm the worker and the database caches
    out = Latencies()
    deadline = time.monotonic() + budget
    lock = threading.Lock()

    def worker(twin: Client):
        mine = Latencies()
        for _ in range(requests):
            if time.monotonic() > deadline:
                break
            _get(twin, path, mine)
        with lock:
            out.seconds.extend(mine.seconds)
            out.errors.extend(mine.errors)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, [client.clone() for _ in range(clients)]))
    out.wall = time.perf_counter() - started
    return out


def ingest(port: int, token: str, batches: list[list[dict]], clients: int = 2) -> Latencies:
    """POST the batches to /api/v1/events/ from `clients` connections at once."""
    out = Latencies()
    lock = threading.Lock()
    queue = list(batches)

    def worker(_):
        client = Client(port, {"Authorization": f"Token {token}"})
        while True:
            with lock:
                if not queue:
                    return
                batch = queue.pop()
            started = time.perf_counter()
            status, body, _ = client.request(
                "POST",
                "/api/v1/events/",
                json.dumps(batch).encode(),
                {"Content-Type": "application/json"},
            )
            elapsed = time.perf_counter() - started
            with lock:
                if status == 201:
                    out.seconds.append(elapsed)
                else:
                    out.errors.append(f"{status}: {body[:200]!r}")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    out.wall = time.perf_counter() - started
    return out
