"""Real server processes for the tests and benchmarks that need them: gunicorn (the
production web server, config/gunicorn.py) and `manage.py db_worker`, started on the
database the test (or benchmark) uses, each with its own log file.

    with served(env, workers=2) as base_url:
        requests.get(base_url + "/health/live")

`database_env()` gives the environment that points a child process at the current Django
database (the test database under pytest): DATABASE_URL built from the connection's settings.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import requests
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


def free_port():
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url():
    """The current database's settings as a postgres:// address (PostgreSQL only)."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("Server processes share a database: they need PostgreSQL.")
    userinfo = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{userinfo}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def database_env(**extra):
    """The environment of a child process on the current database; `extra` overrides."""
    # Not the proxies (the servers are on 127.0.0.1), nor the browser tests' permission to use
    # the ORM from Playwright's event loop (check --deploy rightly refuses it in a server).
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.lower().endswith("_proxy") and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update({"DATABASE_URL": database_url(), "GRANTS_ENV": "embedded", "DEBUG": "false"})
    env.update({key: str(value) for key, value in extra.items()})
    return env


def wait_until_answering(url, process, log_path, timeout=60.0):
    """Poll `url` until it answers (any status), or fail with the process's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} stopped (exit {process.returncode}):\n{log_tail(log_path)}")
        try:
            requests.get(url, timeout=10, allow_redirects=False)
            return
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or busy starting
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s:\n{log_tail(log_path)}")


def log_tail(path, lines=60):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(process, timeout=20.0):
    """SIGTERM, then SIGKILL if it has not stopped within `timeout`."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def gunicorn(env, *, workers=2, threads=1, log_dir, name="web", ready_path="/"):
    """A gunicorn on a free port of 127.0.0.1 with config/gunicorn.py; yields its base URL."""
    port = free_port()
    log_path = Path(log_dir) / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(BASE_DIR / "config" / "gunicorn.py"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "config.wsgi",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_answering(base_url + ready_path, process, log_path)
            yield base_url
        finally:
            stop(process)


@contextlib.contextmanager
def db_workers(env, *, count=1, log_dir, batch=False):
    """`count` processes of `manage.py db_worker` (--batch: each stops when the queue is empty)."""
    processes = []
    logs = []
    try:
        for index in range(count):
            log = open(Path(log_dir) / f"worker-{index}.log", "wb")  # noqa: SIM115 - closed below
            logs.append(log)
            command = [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.1",
            ]
            if batch:
                command.append("--batch")
            processes.append(subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT))
        yield processes
    finally:
        for process in processes:
            stop(process)
        for log in logs:
            log.close()
