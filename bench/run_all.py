"""Run every bench/bench_*.py against PostgreSQL and Redis; print one table of figures,
each beside its floor with the ratio, and write bench/results.json.

The database is BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/hourglass_bench): created when missing and
migrated before the run. The broker is BENCH_CELERY_BROKER_URL (default
redis://127.0.0.1:6379/14), passed to the scripts as CELERY_BROKER_URL, and the
cache BENCH_CACHE_URL (default redis://127.0.0.1:6379/10, a Redis db of its own:
the scripts empty it), passed as CACHE_URL. Each script
runs in its own process with `--json PATH` (rows in the shape of bench/_report.py);
one that fails is shown as failed with the last line of its error, the others still
run and are written, and the run exits non-zero at the end.

    .venv/bin/python bench/run_all.py [SCRIPT ...] [--output PATH]
    .venv/bin/python bench/run_all.py --markdown   # the last results as Markdown
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import KEYS  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hourglass_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/14"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/10"
RESULTS = ROOT / "bench" / "results.json"
SCRIPT_TIMEOUT = 30 * 60.0
START_POSTGRES = (
    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
)
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


class Unavailable(Exception):
    """A service the benchmarks need is missing: one line says which and why."""


def first_line(error: BaseException | str) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def prepare_postgres(url: str) -> str:
    """Create the database when missing; return the server's version."""
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if parts.scheme not in ("postgres", "postgresql") or not name:
        raise Unavailable(
            f"BENCH_DATABASE_URL must be postgres://user@host:port/name, not {url}"
        )
    where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    try:
        connection = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.OperationalError as error:
        if f'database "{name}" does not exist' not in str(error):
            raise Unavailable(
                f"PostgreSQL is not reachable at {where} ({first_line(error)}): "
                f"start it with `{START_POSTGRES}`, or set BENCH_DATABASE_URL"
            ) from error
        admin = psycopg2.connect(
            urlunsplit(parts._replace(path="/postgres")), connect_timeout=5
        )
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        admin.close()
        print(f"==> Created database {name} on {where}")
        connection = psycopg2.connect(url, connect_timeout=5)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0].split()[0]
    connection.close()
    return version


def check_redis(url: str, variable: str = "BENCH_CELERY_BROKER_URL") -> str:
    """Ping the broker (or the cache); return the server's version."""
    import redis

    parts = urlsplit(url)
    where = f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        version = client.info("server")["redis_version"]
        client.close()
    except (redis.RedisError, ValueError) as error:
        raise Unavailable(
            f"Redis is not reachable at {where} ({first_line(error)}): start it with "
            f"`{START_REDIS}`, or set {variable}"
        ) from error
    return version


def migrate(env: dict) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        last = [line for line in done.stderr.splitlines() if line.strip()] or [""]
        raise Unavailable(f"manage.py migrate failed on the bench database: {last[-1]}")


def tool_version(*command: str) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return first_line(done.stdout or done.stderr) or None


def stop(process: subprocess.Popen) -> None:
    """Interrupt the script's session (so it deletes its throw-away business), and
    kill what is left after a grace period."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def run_script(script: Path, env: dict, timeout: float) -> dict:
    """Run one script with --json; its output goes straight through, and the last
    lines of its stderr are kept to name the error."""
    print(f"\n==> {shown(script)}", flush=True)
    result = {
        "script": script.name,
        "status": "failed",
        "seconds": None,
        "error": None,
        "rows": [],
    }
    tail: deque[str] = deque(maxlen=20)
    with tempfile.TemporaryDirectory(prefix="hourglass-bench-") as tmp:
        output = Path(tmp) / "rows.json"
        start = time.monotonic()
        # A session of its own, so a timeout or Ctrl+C ends the script and the
        # browser or Graphviz it started, and nothing else.
        process = subprocess.Popen(
            [sys.executable, str(script), "--json", str(output)],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )

        def pump() -> None:
            for line in process.stderr:
                sys.stderr.write(line)
                sys.stderr.flush()
                if line.strip():
                    tail.append(line.rstrip())

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(process)
            code = None
        except KeyboardInterrupt:
            stop(process)
            raise
        reader.join(timeout=5)
        result["seconds"] = round(time.monotonic() - start, 1)
        if code is None:
            result["error"] = f"timed out after {timeout:.0f} s"
        elif code != 0:
            result["error"] = tail[-1] if tail else f"exit status {code}"
        elif not output.exists():
            result["error"] = "wrote no --json output"
        else:
            try:
                rows = json.loads(output.read_text())
            except ValueError as error:
                rows, result["error"] = None, f"--json output: {first_line(error)}"
            if rows is not None:
                valid = (
                    isinstance(rows, list)
                    and rows
                    and all(isinstance(r, dict) and set(KEYS) <= r.keys() for r in rows)
                )
                if valid:
                    result["status"], result["rows"] = "ok", rows
                else:
                    result["error"] = (
                        "--json output is not a list of rows with " + ", ".join(KEYS)
                    )
    return result


def shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def milliseconds(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def print_table(results: list[dict]) -> None:
    header = ("script", "measures", "ms", "floor", "floor ms", "ratio")
    lines: list[tuple[str, ...]] = []
    for result in results:
        if result["status"] != "ok":
            lines.append((result["script"], f"FAILED: {result['error']}"))
            continue
        for n, row in enumerate(result["rows"]):
            lines.append(
                (
                    result["script"] if n == 0 else "",
                    row["what"],
                    milliseconds(row["value_ms"]),
                    row["floor"],
                    milliseconds(row["floor_ms"]),
                    f"{row['ratio']:.2f}",
                )
            )
    cells = [header] + [line for line in lines if len(line) == len(header)]
    widths = [max(len(cell[i]) for cell in cells) for i in range(len(header))]
    widths[0] = max(len(line[0]) for line in [header, *lines])
    right = {2, 4, 5}

    def fmt(cell: tuple[str, ...]) -> str:
        return "  ".join(
            text.rjust(width) if i in right else text.ljust(width)
            for i, (text, width) in enumerate(zip(cell, widths, strict=False))
        ).rstrip()

    print(fmt(header))
    print("  ".join("-" * width for width in widths))
    for line in lines:
        print(fmt(line))
    extras = []
    for result in results:
        for row in result["rows"]:
            for key, value in row.items():
                if key.endswith("_ms") and key not in KEYS:
                    extra = f"{result['script']} {key} {milliseconds(value)}"
                    if extra not in extras:
                        extras.append(extra)
    if extras:
        print("for scale, without a floor: " + "; ".join(extras))


def markdown(report: dict) -> str:
    machine = report["machine"]
    lines = [
        f"Latest run {report['date'][:10]}: {machine['cpu_count']} CPUs, "
        f"PostgreSQL {machine['postgresql']}, Redis {machine['redis']}, "
        f"Python {machine['python']}.",
        "",
        "| script | measures | figure | floor | ratio |",
        "|---|---|---|---|---|",
    ]
    for result in report["scripts"]:
        name = f"`{result['script']}`"
        if result["status"] != "ok":
            lines.append(f"| {name} | failed: {result['error']} | | | |")
        for row in result["rows"]:
            lines.append(
                f"| {name} | {row['what']} | {milliseconds(row['value_ms'])} ms "
                f"| {row['floor']}: {milliseconds(row['floor_ms'])} ms "
                f"| {row['ratio']:.2f} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "scripts", nargs="*", help="bench scripts to run (default: bench/bench_*.py)"
    )
    parser.add_argument(
        "--output", default=str(RESULTS), help="results file (default: %(default)s)"
    )
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="print the results file as a Markdown table and stop",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=SCRIPT_TIMEOUT,
        help="seconds each script may take (default: %(default)s)",
    )
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(Path(args.output).read_text())))
        return 0

    scripts = [Path(s).resolve() for s in args.scripts] or sorted(
        (ROOT / "bench").glob("bench_*.py")
    )
    if not scripts:
        print("No bench/bench_*.py scripts.")
        return 0
    database_url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    broker_url = os.environ.get("BENCH_CELERY_BROKER_URL") or DEFAULT_BROKER_URL
    cache_url = os.environ.get("BENCH_CACHE_URL") or DEFAULT_CACHE_URL
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["CELERY_BROKER_URL"] = broker_url
    env["CACHE_URL"] = cache_url
    env.setdefault("DJANGO_SETTINGS_MODULE", "hourglass.settings")
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    try:
        postgresql = prepare_postgres(database_url)
        redis_version = check_redis(broker_url)
        check_redis(cache_url, "BENCH_CACHE_URL")
        print(f"==> Migrating {without_password(database_url)}", flush=True)
        migrate(env)
    except Unavailable as error:
        print(error, file=sys.stderr)
        return 2

    date = datetime.now(UTC).isoformat(timespec="seconds")
    results = [run_script(script, env, args.timeout) for script in scripts]
    report = {
        "date": date,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": postgresql,
            "redis": redis_version,
            "graphviz": tool_version(os.environ.get("GRAPHVIZ_DOT") or "dot", "-V"),
            "chromium": tool_version(
                os.environ.get("CHROMIUM", "/usr/bin/chromium"), "--version"
            ),
            "platform": platform.platform(),
        },
        "database_url": without_password(database_url),
        "broker_url": without_password(broker_url),
        "cache_url": without_password(cache_url),
        "scripts": results,
    }
    output = Path(args.output).resolve()
    output.write_text(json.dumps(report, indent=2) + "\n")

    machine = report["machine"]
    print(
        f"\nHourglass benchmarks {date}: {machine['cpu_count']} CPUs, "
        f"PostgreSQL {postgresql}, Redis {redis_version}, Python {machine['python']}"
    )
    print_table(results)
    failed = [r["script"] for r in results if r["status"] != "ok"]
    print(f"Wrote {shown(output)}.")
    if failed:
        print(f"{len(failed)} of {len(results)} failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
