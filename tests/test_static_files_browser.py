"""The map editor in Chromium against a production server (gunicorn with DEBUG
off) and against `make run`'s (the dev server with DEBUG on): the static files
collected with the production storage (content-hashed names, the editor's ES
module imports rewritten to them, gzip and Brotli copies) and served by
whitenoise. The editor must open from those files alone.

The server runs in a process of its own with its own SQLite database (the demo
data of `seed_demo`): pytest-django's live_server serves static files from the
finders, which know no hashed names.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

BASE_DIR = Path(__file__).resolve().parent.parent
HASHED = re.compile(r"\.[0-9a-f]{12}\.[a-z0-9]+$")
EDITOR_MODULE = re.compile(
    r"/static/systemmaps/editor/[a-z0-9-]+(\.[0-9a-f]{12})?\.js$"
)
DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "hourglass-demo"
EDIT_URL = (
    "import django; django.setup(); from systemmaps.models import SystemMap; "
    "m = SystemMap.objects.order_by('pk').first(); "
    "print(f'/b/{m.business.slug}/maps/{m.pk}/edit/')"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# gunicorn with DEBUG off, as the image runs it; and what `make run` runs (the
# Makefile and Procfile.dev): the dev server with DEBUG on, the production storage.
SERVERS = {
    "production": (
        {
            "DEBUG": "0",
            "SECRET_KEY": "prod-" + "k3y-s3cr3t-" * 6,
            "EMAIL_URL": "dummymail://",
            # Plain HTTP on the loopback: no TLS here to redirect to.
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
        },
        lambda port: [
            str(Path(sys.executable).with_name("gunicorn")),
            "hourglass.wsgi:application",
            *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"),
        ],
    ),
    "make-run": (
        {
            "DEBUG": "1",
            "STATICFILES_BACKEND": "hourglass.storage.ManifestStaticFilesStorage",
        },
        lambda port: [
            sys.executable,
            *("manage.py", "runserver", "--nostatic", "--noreload"),
            f"127.0.0.1:{port}",
        ],
    ),
}


@pytest.fixture(scope="module", params=SERVERS, ids=SERVERS)
def production_server(request, tmp_path_factory):
    """(base URL, the demo map's edit path) of a running server that serves the
    collected files."""
    settings, command = SERVERS[request.param]
    root = tmp_path_factory.mktemp(request.param)
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "hourglass.settings",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
        "STATIC_ROOT": str(root / "static"),
        "CACHE_DIR": str(root / "cache"),
        "CELERY_DATA_DIR": str(root / "celery"),
        **settings,
    }

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    manage("manage.py", "collectstatic", "--noinput", "-v", "0")
    manage("manage.py", "migrate", "--noinput", "-v", "0")
    manage("manage.py", "seed_demo", "--language", "en")
    edit_path = manage("-c", EDIT_URL).strip().splitlines()[-1]
    server = subprocess.Popen(
        command(port),
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)
        yield base, edit_path
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_editor_opens_from_hashed_compressed_files(page: Page, production_server):
    base, edit_path = production_server
    static, problems = {}, []
    page.on("response", lambda r: "/static/" in r.url and static.setdefault(r.url, r))
    page.on(
        "console",
        lambda message: message.type == "error" and problems.append(message.text),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{base}/accounts/login/")
    page.fill('input[name="username"]', DEMO_EMAIL)
    page.fill('input[name="password"]', DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(re.compile(r"/b/"))
    page.goto(base + edit_path)
    expect(page.locator('#editor[data-ready="true"]')).to_have_count(1)
    expect(page.locator("#editor-canvas [data-node-id]").first).to_be_visible()

    assert problems == []
    modules = [url for url in static if EDITOR_MODULE.search(url)]
    assert any("/editor/main." in url for url in modules)
    assert any("/editor/document." in url for url in modules), modules
    assert any("/vendor/x6/" in url for url in static)
    for url, response in static.items():
        assert response.status in (200, 304), url
        # Every file by its hashed name, the modules each imports too.
        assert HASHED.search(url.split("?")[0]), url
        headers = response.all_headers()
        assert headers["cache-control"] == "max-age=315360000, public, immutable"
        if url.endswith((".js", ".css")):
            assert headers.get("content-encoding") in ("gzip", "br"), url
