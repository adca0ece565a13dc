"""The deployment files point at things that exist.

No Docker engine runs here, so docker-compose.yml, the Dockerfile and Procfile.dev are
checked by reading them: every command must name a real entry point (a management
command, the WSGI application, the Celery app and sub-command), and every environment
variable they set must be one hourglass/settings.py reads.
"""

import ast
import json
import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import environ
import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from celery.bin.celery import celery as celery_cli
from django.core.management import get_commands
from django.utils.module_loading import import_string
from gunicorn.errors import AppImportError
from gunicorn.util import import_app

BASE_DIR = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
SHELLS = {"sh", "bash"}
SHELL_SEPARATORS = {"&&", ";", "||"}
# Variables of the image's Python and pip, not of the app.
TOOL_ENV_PREFIXES = ("PYTHON", "PIP_")


# ---------------------------------------------------------------------------
# Reading the files
# ---------------------------------------------------------------------------


@cache
def settings_env_names() -> frozenset[str]:
    """Names settings.py reads: `env.<cast>("NAME")`, `env("NAME")`, `"NAME" in env`."""
    tree = ast.parse((BASE_DIR / "hourglass" / "settings.py").read_text())

    def is_env(node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id == "env"

    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if is_env(func) or (isinstance(func, ast.Attribute) and is_env(func.value)):
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.add(first.value)
        elif (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.In)
            and is_env(node.comparators[0])
            and isinstance(node.left, ast.Constant)
        ):
            names.add(node.left.value)
    return frozenset(names)


@cache
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def interpolate(value: str, host_env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?message}` against host_env."""

    def replace(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if host_env.get(name):
            return host_env[name]
        if op == ":?":
            raise LookupError(f"{name} is required: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", replace, value)


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (BASE_DIR / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def procfile() -> dict[str, str]:
    processes = {}
    for line in (BASE_DIR / "Procfile.dev").read_text().splitlines():
        # honcho's own pattern for a process line; anything else (comments) is ignored.
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)
        if match:
            processes[match.group(1)] = match.group(2)
    return processes


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------


def split_command(command: str | list[str]) -> list[list[str]]:
    """One argv per program a command runs, looking inside `sh -c "a && b"`."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if argv and Path(argv[0]).name in SHELLS and argv[1:2] == ["-c"]:
        lexer = shlex.shlex(argv[2], posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        programs, current = [], []
        for token in lexer:
            if token in SHELL_SEPARATORS:
                programs.append(current)
                current = []
            else:
                current.append(token)
        programs.append(current)
        return [strip_prefix(p) for p in programs if p]
    return [strip_prefix(argv)]


def strip_prefix(argv: list[str]) -> list[str]:
    """Drops a leading `exec` and `NAME=value` assignments."""
    while argv and (argv[0] == "exec" or re.fullmatch(r"\w+=.*", argv[0])):
        argv = argv[1:]
    return argv


def option_value(argv: list[str], *names: str) -> str | None:
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg[len(name) + 1 :]
    return None


def check_entry_point(argv: list[str]) -> str:
    """Asserts argv runs something that exists; returns what, e.g. 'celery beat'."""
    assert argv, "empty command"
    program = Path(argv[0]).name
    if re.fullmatch(r"python(3(\.\d+)?)?", program):
        if argv[1:2] == ["-m"]:
            return check_entry_point([argv[2], *argv[3:]])
        assert len(argv) >= 3 and Path(argv[1]).name == "manage.py", argv
        assert (BASE_DIR / "manage.py").is_file()
        assert argv[2] in get_commands(), f"no management command {argv[2]!r}: {argv}"
        return f"manage.py {argv[2]}"
    if program == "gunicorn":
        targets = [
            a for a in argv[1:] if re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", a)
        ]
        assert len(targets) == 1, f"gunicorn needs one module:attribute: {argv}"
        # gunicorn's own loader: imports the module and refuses a non-callable.
        application = import_app(targets[0])
        assert callable(application)
        return f"gunicorn {targets[0]}"
    if program == "celery":
        app_name = option_value(argv, "-A", "--app")
        assert app_name, f"celery without -A: {argv}"
        app = find_app(app_name)
        assert isinstance(app, Celery), f"-A {app_name} is not a Celery app"
        import hourglass

        assert app is hourglass.celery_app
        positionals = [a for a in argv[1:] if not a.startswith("-") and a != app_name]
        assert positionals, f"celery without a sub-command: {argv}"
        subcommand = positionals[0]
        assert subcommand in celery_cli.commands, (
            f"no celery sub-command {subcommand!r}"
        )
        if subcommand == "beat":
            app.loader.import_default_modules()
            for entry in app.conf.beat_schedule.values():
                assert entry["task"] in app.tasks, (
                    f"beat schedules unknown {entry['task']!r}"
                )
        return f"celery {subcommand}"
    pytest.fail(f"unknown entry point {program!r} in {argv}")


def entry_points(command: str | list[str]) -> list[str]:
    return [check_entry_point(argv) for argv in split_command(command)]


# ---------------------------------------------------------------------------
# The checker itself (so that the tests below can fail)
# ---------------------------------------------------------------------------


def test_settings_env_names_are_found():
    names = settings_env_names()
    assert {
        "DEBUG",
        "SECRET_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "EMAIL_URL",
    } <= names
    assert "BASE_DIR" not in names


def test_split_command_looks_inside_sh_c():
    assert split_command(
        'sh -c "python manage.py migrate && exec gunicorn a.b:c -w 3"'
    ) == [
        ["python", "manage.py", "migrate"],
        ["gunicorn", "a.b:c", "-w", "3"],
    ]


@pytest.mark.parametrize(
    "command",
    [
        "python manage.py no_such_command",
        "gunicorn hourglass.wsgi:no_such_app",
        "gunicorn hourglass.no_such_module:application",
        "celery -A hourglass no_such_subcommand",
        "uwsgi --module hourglass.wsgi",
    ],
)
def test_checker_rejects_missing_entry_points(command):
    with pytest.raises(
        (AssertionError, ImportError, AppImportError, pytest.fail.Exception)
    ):
        entry_points(command)


def test_interpolate_requires_and_defaults():
    assert interpolate("${A:-x}/${B}", {}) == "x/"
    with pytest.raises(LookupError, match="SECRET_KEY"):
        interpolate("${SECRET_KEY:?set it}", {})


# ---------------------------------------------------------------------------
# docker-compose.yml
# ---------------------------------------------------------------------------


def test_compose_has_the_five_services():
    assert set(compose()["services"]) == {"postgres", "redis", "web", "worker", "beat"}


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("web", ["manage.py migrate", "gunicorn hourglass.wsgi:application"]),
        ("worker", ["celery worker"]),
        ("beat", ["celery beat"]),
    ],
)
def test_compose_commands_name_real_entry_points(service, expected):
    assert entry_points(compose()["services"][service]["command"]) == expected


def test_compose_app_services_build_this_checkout():
    for name in APP_SERVICES:
        build = compose()["services"][name]["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        assert (BASE_DIR / context / "Dockerfile").is_file(), name


def test_compose_sets_only_environment_the_settings_read():
    read = settings_env_names()
    for name, service in compose()["services"].items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        for variable in environment:
            if name == "postgres" and variable.startswith("POSTGRES_"):
                continue
            assert variable in read, (
                f"{name} sets {variable}, which settings.py never reads"
            )


def test_compose_app_environment_is_a_production_one():
    for name in APP_SERVICES:
        environment = compose()["services"][name]["environment"]
        assert str(environment["DEBUG"]).lower() in {"0", "false", "off", "no"}, name
        # No key baked into the file: compose refuses to start without one.
        with pytest.raises(LookupError):
            interpolate(environment["SECRET_KEY"], {})
        assert interpolate(environment["SECRET_KEY"], {"SECRET_KEY": "k"}) == "k"
        import_string(environment["STATICFILES_BACKEND"])
        # No mail server baked in either: console mail would log live links.
        with pytest.raises(LookupError, match="EMAIL_URL"):
            interpolate(environment["EMAIL_URL"], {})
        smtp = "smtp+tls://u:p@mail.example:587"
        backend = environ.Env.email_url_config(
            interpolate(environment["EMAIL_URL"], {"EMAIL_URL": smtp})
        )
        assert backend["EMAIL_HOST"] == "mail.example"
        import_string(backend["EMAIL_BACKEND"])


def test_compose_urls_point_at_the_compose_services():
    services = compose()["services"]
    postgres = {
        k: interpolate(str(v), {})
        for k, v in services["postgres"]["environment"].items()
    }
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        db = environ.Env.db_url_config(interpolate(environment["DATABASE_URL"], {}))
        assert db["ENGINE"] == "django.db.backends.postgresql"
        assert (db["HOST"], db["PORT"]) == ("postgres", 5432)
        assert db["NAME"] == postgres["POSTGRES_DB"]
        assert db["USER"] == postgres["POSTGRES_USER"]
        assert db["PASSWORD"] == postgres["POSTGRES_PASSWORD"]
        broker = interpolate(environment["CELERY_BROKER_URL"], {})
        assert re.fullmatch(r"redis://redis:6379/\d+", broker), broker


def test_compose_waits_for_healthy_database_and_broker():
    services = compose()["services"]
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["web"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["redis"]["condition"] == "service_healthy"
    for name, service in services.items():
        for target, spec in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if spec.get("condition") == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"


def test_compose_publishes_the_port_gunicorn_binds():
    web = compose()["services"]["web"]
    gunicorn = split_command(web["command"])[-1]
    bind = option_value(gunicorn, "--bind", "-b")
    assert bind == "0.0.0.0:8000"
    assert any(str(port).endswith(":8000") for port in web["ports"])


# ---------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------


def test_dockerfile_cmd_names_a_real_entry_point():
    cmds = [rest for keyword, rest in dockerfile_instructions() if keyword == "CMD"]
    assert cmds, "Dockerfile has no CMD"
    argv = json.loads(cmds[-1])
    assert entry_points(argv) == ["gunicorn hourglass.wsgi:application"]
    assert option_value(argv, "--bind", "-b") == "0.0.0.0:8000"


def test_dockerfile_runs_as_non_root():
    users = [rest for keyword, rest in dockerfile_instructions() if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}


def test_dockerfile_collects_static_with_the_manifest_storage():
    runs = [rest for keyword, rest in dockerfile_instructions() if keyword == "RUN"]
    collect = [run for run in runs if "collectstatic" in run]
    assert collect, "Dockerfile never runs collectstatic"
    assert "collectstatic" in get_commands()
    backend = dockerfile_env()["STATICFILES_BACKEND"]
    assert backend.endswith("ManifestStaticFilesStorage")
    import_string(backend)


def test_dockerfile_sets_only_environment_the_settings_read():
    read = settings_env_names()
    for variable in dockerfile_env():
        if not variable.startswith(TOOL_ENV_PREFIXES):
            assert variable in read, (
                f"Dockerfile sets {variable}, which settings.py never reads"
            )


# ---------------------------------------------------------------------------
# Procfile.dev (make run)
# ---------------------------------------------------------------------------


def test_procfile_processes_name_real_entry_points():
    processes = procfile()
    assert {name: entry_points(command) for name, command in processes.items()} == {
        "web": ["manage.py runserver"],
        "worker": ["celery worker"],
        "beat": ["celery beat"],
    }


def test_procfile_web_listens_on_the_makefile_port():
    # honcho hands each process its own PORT (5000, 5100, ...); the Makefile's PORT
    # reaches runserver as HOURGLASS_PORT instead.
    runserver = split_command(procfile()["web"])[0]
    assert runserver[-1].endswith(":${HOURGLASS_PORT:-8000}"), runserver
    assert "HOURGLASS_PORT=$(PORT)" in (BASE_DIR / "Makefile").read_text()


# ---------------------------------------------------------------------------
# Settings at start-up, in a clean process
# ---------------------------------------------------------------------------


def dotenv_sets(name: str) -> bool:
    """Whether this checkout's .env (read by settings.py) sets `name`."""
    dotenv = BASE_DIR / ".env"
    return dotenv.is_file() and bool(
        re.search(rf"^\s*{name}\s*=", dotenv.read_text(), re.M)
    )


def run_django(code_or_args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "hourglass.settings",
        **env,
    }
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=BASE_DIR,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("secret_key", [None, ""], ids=["unset", "empty"])
def test_production_settings_refuse_to_start_without_secret_key(secret_key):
    env = {"DEBUG": "0"}
    if secret_key is None and dotenv_sets("SECRET_KEY"):
        pytest.skip(".env in this checkout sets SECRET_KEY")
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key
    result = run_django(["-c", "import django; django.setup()"], **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    "email_url", [None, "consolemail://"], ids=["unset", "console"]
)
def test_production_settings_refuse_to_start_without_a_mail_server(email_url):
    if email_url is None and dotenv_sets("EMAIL_URL"):
        pytest.skip(".env in this checkout sets EMAIL_URL")
    env = {"DEBUG": "0", "SECRET_KEY": "test-" + "x" * 50}
    if email_url:
        env["EMAIL_URL"] = email_url
    result = run_django(["-c", "import django; django.setup()"], **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "EMAIL_URL" in result.stderr


def test_development_settings_start_with_console_mail():
    if dotenv_sets("EMAIL_URL"):
        pytest.skip(".env in this checkout sets EMAIL_URL")
    result = run_django(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.EMAIL_BACKEND)",
        ],
        DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("console.EmailBackend")


def test_production_settings_start_with_secret_key():
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "test-" + "x" * 50,
        "ALLOWED_HOSTS": "hourglass.example",
        "EMAIL_URL": "smtp+tls://u:p@mail.example:587",
    }
    result = run_django(
        ["manage.py", "check", "--deploy", "--fail-level", "ERROR"], **env
    )
    assert result.returncode == 0, result.stderr
    shown = run_django(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.ALLOWED_HOSTS)",
        ],
        **env,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "False ['hourglass.example']"
