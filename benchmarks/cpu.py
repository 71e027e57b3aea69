"""CPU per request of a page, in process: the figure that survives a loaded machine.

    DATABASE_URL=... python -m benchmarks.cpu /leads/queue/ rita [requests] \\
        [--profile [--cumulative]] [--lang=pt-br]

Runs the whole request (middleware, view, template) through Django's test client with DEBUG
off, logged in as `username`, and prints the median CPU time (time.process_time) per request,
the wall time and, with --profile, Python's call count and the costliest functions. Only
GET requests: nothing is written but the session of the login.
"""

import cProfile
import os
import pstats
import statistics
import sys
import time


def main(argv: list[str]) -> None:
    from benchmarks.http import server_env

    os.environ.update(server_env())  # DEBUG off, as gunicorn runs in the bench
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    args = [arg for arg in argv if not arg.startswith("--")]
    path, username = args[0], args[1]
    requests = int(args[2]) if len(args) > 2 else 30
    language = next((arg.split("=", 1)[1] for arg in argv if arg.startswith("--lang=")), "en")
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(get_user_model().objects.get(username=username))
    for _ in range(3):  # warm: templates compiled, connections open, caches filled
        assert client.get(path).status_code == 200
    cpu, wall = [], []
    for _ in range(requests):
        started_cpu, started = time.process_time(), time.perf_counter()
        client.get(path)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    print(
        f"{path} as {username}: CPU median {statistics.median(cpu) * 1000:.1f} ms "
        f"(min {min(cpu) * 1000:.1f}), wall median {statistics.median(wall) * 1000:.1f} ms "
        f"over {requests} requests"
    )
    if "--profile" in argv:
        profile = cProfile.Profile(time.process_time)  # CPU, not waits on the database
        profile.enable()
        for _ in range(10):
            client.get(path)
        profile.disable()
        stats = pstats.Stats(profile)
        print(f"Python calls per request: {stats.total_calls // 10:,}")
        order = "cumtime" if "--cumulative" in argv else "tottime"
        stats.sort_stats(order).print_stats(60 if order == "cumtime" else 25)


if __name__ == "__main__":
    main(sys.argv[1:])
