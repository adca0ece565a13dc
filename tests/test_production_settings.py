"""With DEBUG off, the settings are the safe ones: `check --deploy` finds nothing,
cookies are secure, HSTS and the HTTPS redirect are on (and can be configured
behind a proxy), and collectstatic writes hashed file names for whitenoise.

Each test starts a clean process with only the variables it names, as a server
would, since settings are read once at start-up.
"""

import gzip
import json
import os
import re
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import brotli
import pytest
from django.test import Client

BASE_DIR = Path(__file__).resolve().parent.parent
EDITOR = BASE_DIR / "static" / "systemmaps" / "editor"
# The relative paths an ES module imports (`import … from "./x.js";`).
IMPORT = re.compile(
    r"""^(?:import|export)\b[^;]*?\bfrom\s*["'](\./[^"']+)["'];""", re.M
)
IMPORT_PLAIN = re.compile(r"""from\s*["']\./[a-z0-9-]+\.js["']""")
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "prod-" + "k3y-s3cr3t-" * 6,
    "ALLOWED_HOSTS": "hourglass.example",
    "EMAIL_URL": "smtp+tls://hourglass:secret@mail.example.com:587",
}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "hourglass.settings",
        **env,
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def production_settings(*names: str, **env: str) -> dict:
    """The values of `names` as a production process sees them."""
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}},"
        " default=str))"
    )
    result = run(["-c", code], **{**PRODUCTION, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_passes_at_warning_level():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_when_a_protection_is_turned_off():
    # The check above can fail: switching HSTS off is a warning it reports.
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **PRODUCTION,
        SECURE_HSTS_SECONDS="0",
    )

    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


def test_production_defaults_are_the_safe_ones():
    values = production_settings(
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "X_FRAME_OPTIONS",
        "SECURE_PROXY_SSL_HEADER",
        "STORAGES",
        "AXES_ENABLED",
        "AXES_FAILURE_LIMIT",
        "CONTENT_SECURITY_POLICY",
    )

    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    # Not trusted unless the deployment says a proxy sets it.
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    # whitenoise's compressed manifest storage, hashing ES module imports too.
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "hourglass.storage.ManifestStaticFilesStorage"
    )
    assert values["AXES_ENABLED"] is True
    assert values["AXES_FAILURE_LIMIT"] == 5
    assert values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["script-src"] == ["'self'"]


def test_behind_a_tls_proxy_the_forwarded_protocol_and_address_are_trusted():
    values = production_settings(
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "TRUSTED_PROXY_COUNT",
        USE_X_FORWARDED_PROTO="1",
        SECURE_HSTS_SECONDS="300",
        TRUSTED_PROXY_COUNT="1",
    )

    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 300
    assert values["TRUSTED_PROXY_COUNT"] == 1


def test_each_protection_can_be_configured_from_the_environment():
    values = production_settings(
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "AXES_FAILURE_LIMIT",
        "AXES_COOLOFF_TIME",
        "CONTENT_SECURITY_POLICY",
        "CONTENT_SECURITY_POLICY_REPORT_ONLY",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        LOGIN_FAILURE_LIMIT="8",
        LOGIN_COOLOFF_MINUTES="30",
        CSP_REPORT_ONLY="1",
    )

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["AXES_FAILURE_LIMIT"] == 8
    assert values["AXES_COOLOFF_TIME"] == "0:30:00"
    assert values["CONTENT_SECURITY_POLICY"] is None
    assert values["CONTENT_SECURITY_POLICY_REPORT_ONLY"]["DIRECTIVES"]["default-src"]


def test_development_keeps_plain_static_names_and_no_redirect():
    values = production_settings(
        "STORAGES", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", DEBUG="1"
    )

    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False


# The environment of `make run`'s web process (the Makefile): DEBUG on, the
# production storage.
MAKE_RUN = {
    "DEBUG": "1",
    "ALLOWED_HOSTS": "hourglass.example",
    "STATICFILES_BACKEND": "hourglass.storage.ManifestStaticFilesStorage",
}
SERVERS = {"production": PRODUCTION, "make-run": MAKE_RUN}
HASHED = re.compile(r"\.[0-9a-f]{12}\.[a-z0-9]+$")


@pytest.fixture(scope="module", params=SERVERS, ids=SERVERS)
def collected(request, tmp_path_factory) -> tuple[dict, Path]:
    """The environment of a production server (or `make run`) and the static
    files collectstatic wrote for it."""
    environment = SERVERS[request.param]
    static_root = tmp_path_factory.mktemp(f"static-{request.param}")
    result = run(
        ["manage.py", "collectstatic", "--noinput", "-v", "0"],
        **environment,
        STATIC_ROOT=str(static_root),
    )
    assert result.returncode == 0, result.stderr
    return {**environment, "STATIC_ROOT": str(static_root)}, static_root


def test_collectstatic_in_production_writes_hashed_and_compressed_files(collected):
    _environment, static_root = collected
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    for name in (
        "hourglass/app.js",
        "hourglass/hourglass.css",
        "systemmaps/editor/main.js",
        "vendor/x6/x6.min.js",
        "django_htmx/htmx-2.min.js",
    ):
        hashed = manifest[name]
        stem, _, suffix = name.rpartition(".")
        assert hashed != name and hashed.startswith(stem + ".")
        assert hashed.endswith("." + suffix)
        assert (static_root / hashed).is_file()
        assert (static_root / (hashed + ".gz")).is_file()
        assert (static_root / (hashed + ".br")).is_file()

    # The editor's modules import each other by their hashed names, so a browser
    # never mixes files of two deploys.
    modules = sorted(
        name for name in manifest if fnmatch(name, "systemmaps/editor/*.js")
    )
    assert "systemmaps/editor/main.js" in modules
    imported = set()
    for name in modules:
        folder = PurePosixPath(name).parent
        source = (static_root / manifest[name]).read_text()
        for target in IMPORT.findall(source):
            path = str(folder / target).replace("/./", "/")
            assert path in manifest.values(), f"{name} imports {target}"
            assert (static_root / path).is_file()
            imported.add(path)
        assert not IMPORT_PLAIN.search(source), name
    assert manifest["systemmaps/editor/document.js"] in imported


# What the server sends for them: a script run in the server's environment asks
# the app (through the whole middleware stack, whitenoise first) for the login
# page, then for each static file it names, plainly and compressed.
SERVE = """
import django, json, sys
django.setup()
from django.test import Client
client = Client(HTTP_HOST="hourglass.example")
page = client.get("/accounts/login/", secure=True)
files = {}
for url in json.loads(sys.argv[1]):
    answers = {}
    for encoding in ("", "gzip", "br"):
        response = client.get(url, secure=True, HTTP_ACCEPT_ENCODING=encoding)
        body = b"".join(response.streaming_content) if response.streaming else b""
        answers[encoding or "plain"] = {
            "status": response.status_code,
            "encoding": response.get("Content-Encoding"),
            "cache": response.get("Cache-Control"),
            "vary": response.get("Vary"),
            "length": len(body),
            "body": body.hex() if encoding else "",
        }
    files[url] = answers
print(json.dumps({"status": page.status_code, "page": page.content.decode(),
                  "files": files}))
"""


def serve(environment: dict, urls: list[str]) -> dict:
    result = run(["-c", SERVE, json.dumps(urls)], **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_pages_name_hashed_files_served_compressed_and_cached_for_good(collected):
    environment, static_root = collected
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    editor = [
        "/static/" + manifest[name]
        for name in ("systemmaps/editor/main.js", "vendor/x6/x6.min.js")
    ]

    served = serve(environment, editor)
    assert served["status"] == 200
    named = re.findall(r'(?:src|href)="(/static/[^"]+)"', served["page"])
    assert named, "the login page names no static file"
    for url in named:
        assert url.removeprefix("/static/") in manifest.values(), url
        assert HASHED.search(url), url
    assert "/static/" + manifest["hourglass/app.js"] in named

    served = serve(environment, [*named, *editor])
    for url, answers in served["files"].items():
        plain = answers["plain"]
        assert plain["status"] == 200, url
        assert plain["encoding"] is None, url
        # Scripts and stylesheets (whitenoise keeps no copy that saves too little,
        # as of a tiny icon).
        for encoding, decompress in (
            ("gzip", gzip.decompress),
            ("br", brotli.decompress),
        ):
            if not url.endswith((".js", ".css")):
                continue
            answer = answers[encoding]
            assert answer["status"] == 200, url
            assert answer["encoding"] == encoding, (url, encoding)
            assert answer["vary"] == "Accept-Encoding"
            body = decompress(bytes.fromhex(answer["body"]))
            assert body == (static_root / url.removeprefix("/static/")).read_bytes()
            assert answer["length"] < plain["length"], (url, encoding)
        # Ten years: the name changes with the content.
        for answer in answers.values():
            assert answer["cache"] == "max-age=315360000, public, immutable", url


# ---------------------------------------------------------------------------
# The headers a production server sends (in this process, settings overridden)
# ---------------------------------------------------------------------------


@pytest.fixture
def production_headers(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https(production_headers):
    response = Client().get("/accounts/login/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"


@pytest.mark.django_db
def test_https_answers_with_hsts_and_secure_cookies(production_headers):
    response = Client().get("/accounts/login/", secure=True)

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    csrf = response.cookies["csrftoken"]
    assert csrf["secure"] is True


@pytest.mark.django_db
def test_the_proxy_header_counts_as_https(production_headers):
    response = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
    assert "Strict-Transport-Security" in response


@pytest.mark.django_db
def test_session_cookie_is_secure_and_http_only(production_headers, alice):
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"username": alice.email, "password": "correct-horse-battery"},
        secure=True,
    )

    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"


def test_the_editor_imports_form_a_tree_that_collectstatic_can_hash():
    """A file's hashed name has its imports' hashed names in it: a cycle never
    settles, and each level of imports may take one pass of the storage."""
    from hourglass.storage import ManifestStaticFilesStorage

    imports = {
        path.name: {Path(target).name for target in IMPORT.findall(path.read_text())}
        for path in EDITOR.glob("*.js")
    }
    assert imports["main.js"], "main.js imports the other modules"

    def longest_chain(name: str, seen: tuple[str, ...] = ()) -> int:
        assert name not in seen, f"import cycle: {' → '.join((*seen, name))}"
        return max(
            (1 + longest_chain(target, (*seen, name)) for target in imports[name]),
            default=0,
        )

    longest = max(longest_chain(name) for name in imports)
    # One pass per level in the worst order, one to see nothing changed, and
    # Django's first pass is not counted in max_post_process_passes.
    assert longest + 2 <= ManifestStaticFilesStorage.max_post_process_passes + 1


def test_the_editor_page_preloads_every_module_main_imports():
    """Without the preload, the browser finds the modules one level of imports
    after another (six round trips for the longest chain). The page's script is
    static-view.js bundled (npm run build), which asks for main.js (data-editor-src)
    and every module it imports (data-modules) at once, after the first paint."""
    imports = {
        path.name: {Path(target).name for target in IMPORT.findall(path.read_text())}
        for path in EDITOR.glob("*.js")
    }
    wanted, todo = {"main.js"}, ["main.js"]
    while todo:
        for target in imports[todo.pop()] - wanted:
            wanted.add(target)
            todo.append(target)
    template = (BASE_DIR / "templates" / "systemmaps" / "map_edit.html").read_text()
    static = r"""{% static 'systemmaps/editor/([a-z0-9-]+\.js)' %}"""
    editor = re.findall(rf'data-editor-src="{static}"', template)
    modules = re.search(r'data-modules="([^"]*)"', template).group(1)
    preloaded = [*editor, *re.findall(static, modules)]
    assert sorted(preloaded) == sorted(wanted)
