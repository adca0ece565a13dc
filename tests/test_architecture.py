"""The house rules that keep knowledge in one place, checked on the code itself:
the one-way rule (metrics → systemmaps → hourglass, upward only from pages
through selectors), no reach into metrics' tables from the apps below it, and
pages that show the same count getting it from the same call."""

import ast
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import reverse

from metrics import weeks
from metrics.tests.factories import MetricFactory
from systemmaps import services as map_services
from systemmaps.document import TASK, TERMINUS, chain_graph

ROOT = Path(__file__).resolve().parent.parent
LOWER_APPS = ("hourglass", "systemmaps")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# ---------------------------------------------------------------------------
# The import contract (.importlinter, run by `make test`)
# ---------------------------------------------------------------------------


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / ".importlinter")],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_packages(target: Path) -> None:
    shutil.copy(ROOT / ".importlinter", target / ".importlinter")
    for app in ("hourglass", "systemmaps", "metrics"):
        for source in (ROOT / app).rglob("*.py"):
            copy = target / source.relative_to(ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(source.read_text())


def test_the_import_contract_holds_and_catches_a_lower_app_importing_metrics(
    tmp_path,
):
    _copy_packages(tmp_path)
    kept = _lint_imports(tmp_path)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    models = tmp_path / "systemmaps" / "models.py"
    models.write_text(models.read_text() + "\nfrom metrics import rollup  # noqa\n")
    broken = _lint_imports(tmp_path)
    assert broken.returncode != 0
    assert "systemmaps.models -> metrics.rollup" in broken.stdout


# ---------------------------------------------------------------------------
# Metrics' reverse relations are metrics' business
# ---------------------------------------------------------------------------


def reverse_names() -> set[str]:
    """The names a lower app's model would use to reach metrics' rows: every
    reverse accessor and query name of a metrics model's foreign key into
    hourglass or systemmaps."""
    names = set()
    for model in apps.get_app_config("metrics").get_models():
        for field in model._meta.get_fields():
            remote = getattr(field, "remote_field", None)
            if not field.is_relation or not field.concrete or remote is None:
                continue
            if remote.model._meta.app_label not in LOWER_APPS:
                continue
            if (remote.related_name or "").endswith("+"):
                continue  # no reverse relation at all
            names.add(field.remote_field.get_accessor_name())
            names.add(field.related_query_name())
    return names


QUERY_METHODS = {
    "all",
    "filter",
    "exclude",
    "get",
    "first",
    "last",
    "count",
    "exists",
    "values",
    "values_list",
    "annotate",
    "aggregate",
    "order_by",
    "select_related",
    "prefetch_related",
    "create",
    "update",
    "delete",
}
LOOKUP_CALLS = QUERY_METHODS | {
    "Q",
    "F",
    "Prefetch",
    "FilteredRelation",
    "Count",
    "Sum",
    "Max",
    "Min",
    "Avg",
    "Exists",
    "OuterRef",
}


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def reverse_lookups(source: str, names: set[str]) -> list[tuple[int, str]]:
    """(line, what) of each reach through `names` in Python source: a manager
    used as `x.<name>.filter(…)`, a lookup keyword `<name>__…=`, or a lookup
    string "<name>" / "<name>__…" given to a query call."""
    pattern = re.compile(rf"^(?:\w+__)*({'|'.join(map(re.escape, names))})(?:__|$)")
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in QUERY_METHODS
            and isinstance(func.value, ast.Attribute)
            and func.value.attr in names
        ):
            found.append((node.lineno, f".{func.value.attr}.{func.attr}()"))
        if _call_name(node) not in LOOKUP_CALLS:
            continue
        for keyword in node.keywords:
            if keyword.arg and "__" in keyword.arg and pattern.match(keyword.arg):
                found.append((node.lineno, f"{keyword.arg}="))
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if pattern.match(arg.value):
                    found.append((node.lineno, repr(arg.value)))
    return found


def test_reverse_names_are_those_of_metrics_foreign_keys():
    names = reverse_names()
    # Metric.step, Metric.owner and Metric.business; MeetingIssue.step; Todo.owner.
    assert {"metrics", "issues", "todos", "meeting_issues"} <= names


@pytest.mark.parametrize(
    "source, what",
    [
        ("node.metrics.filter(archived_on__isnull=True)", ".metrics.filter()"),
        ("request.membership.todos.count()", ".todos.count()"),
        ("Node.objects.filter(metrics__isnull=False)", "metrics__isnull="),
        ("steps.values_list('metrics__entries__week')", "'metrics__entries__week'"),
        ("Node.objects.prefetch_related('issues')", "'issues'"),
        (
            "Q(map__nodes__metrics__archived_on=None)",
            "map__nodes__metrics__archived_on=",
        ),
    ],
)
def test_the_scan_finds_a_reverse_lookup(source, what):
    assert [w for _line, w in reverse_lookups(source, reverse_names())] == [what]


def test_the_scan_leaves_other_names_alone():
    source = (
        "ChartMember(metrics=rows)\n"
        "Node.objects.filter(map__business=b, owner__isnull=True)\n"
        "chart.metrics\n"
    )
    assert reverse_lookups(source, reverse_names()) == []


def test_no_lower_app_reaches_into_metrics_through_reverse_relations():
    names = reverse_names()
    offences = []
    for app in LOWER_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
                continue
            for line, what in reverse_lookups(path.read_text(), names):
                offences.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert offences == [], "read metrics through metrics.selectors:\n" + "\n".join(
        offences
    )


# ---------------------------------------------------------------------------
# Two pages, one count
# ---------------------------------------------------------------------------

RULE_COUNT = re.compile(
    r'data-rule="([\w-]+)"[^<]*(?:<[^>]+>[^<]*)*?<strong>(\d+)</strong>'
)


def rule_counts(html: str, start: str) -> dict[str, int]:
    """The (rule → count) list that follows `start` in the page."""
    part = html[html.index(start) :]
    part = part[: part.index("</ul>")]
    return {rule: int(n) for rule, n in RULE_COUNT.findall(part)}


@pytest.mark.django_db
def test_the_meeting_counts_the_gaps_the_gap_report_counts(alice_client, acme, alice):
    graph = chain_graph(
        "Sales",
        [(TERMINUS, "Lead"), (TASK, "Call"), (TASK, "Quote"), (TERMINUS, "Won")],
    )
    sales = map_services.map_create(
        business=acme,
        acting_user=alice,
        name="Sales",
        half="marketing",
        stages=["try"],
        graph=graph,
    )
    call, quote = (sales.nodes.get(label=label) for label in ("Call", "Quote"))
    for step in (call, quote):
        map_services.step_update(node=step, critical=True)
    MetricFactory(business=acme, step=call, name="Calls held")
    week = weeks.last_week(acme.timezone)
    slug = acme.slug

    report = alice_client.get(reverse("systemmaps:gaps", args=[slug])).content
    meeting = alice_client.get(
        reverse("metrics:meeting", args=[slug, week.isoformat()])
    ).content

    report_counts = rule_counts(report.decode(), 'data-testid="gap-totals"')
    meeting_counts = rule_counts(meeting.decode(), 'data-testid="gap-count"')
    assert meeting_counts == report_counts
    # "Quote" is critical and nobody measures it; "Call" has its metric.
    assert report_counts["critical-no-metric"] == 1
    assert report_counts["critical-no-checklist"] == 2
    assert week + timedelta(days=7) == weeks.current_week(acme.timezone)


# ---------------------------------------------------------------------------
# HEAD is answered wherever GET is
# ---------------------------------------------------------------------------


def get_without_head(source: str) -> list[str]:
    """The decorators in `source` that allow GET but refuse HEAD."""
    found = re.findall(r"@require_GET\b", source)
    for methods in re.findall(r"@require_http_methods\(\[([^\]]*)\]\)", source):
        names = set(re.findall(r"[\"'](\w+)[\"']", methods))
        if "GET" in names and "HEAD" not in names:
            found.append(f"require_http_methods([{methods}])")
    return found


@pytest.mark.parametrize(
    "source",
    ["@require_GET\ndef f(): ...", '@require_http_methods(["GET", "POST"])'],
)
def test_the_scan_finds_get_without_head(source):
    assert get_without_head(source)


def test_the_scan_accepts_get_with_head():
    source = '@require_safe\n@require_http_methods(["GET", "HEAD", "POST"])\n'
    assert get_without_head(source) == []


def test_every_view_that_serves_get_serves_head():
    offenders = {
        str(path.relative_to(ROOT)): found
        for app in ("hourglass", "systemmaps", "metrics")
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.parts and (found := get_without_head(path.read_text()))
    }
    assert offenders == {}, "use @require_safe, or list HEAD beside GET"


# ---------------------------------------------------------------------------
# Every translated string is one xgettext can find
# ---------------------------------------------------------------------------

GETTEXT_NAMES = {"_", "gettext", "ngettext", "pgettext", "npgettext", "_lazy", "_noop"}


def gettext_in_fstrings(source: str) -> list[int]:
    """The lines of `source` where a translation call sits inside an f-string:
    xgettext does not read inside one, so its string never reaches the
    catalogues and the page shows it in English."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in GETTEXT_NAMES
                ):
                    lines.append(inner.lineno)
    return lines


def test_the_scan_finds_a_translation_inside_an_fstring():
    assert gettext_in_fstrings("x = f'<b>{escape(_(\"better\"))}</b>'") == [1]
    assert gettext_in_fstrings("x = f'{a}'\ny = _('fine')") == []


def test_no_translated_string_hides_inside_an_fstring():
    offenders = {
        str(path.relative_to(ROOT)): found
        for app in ("hourglass", "systemmaps", "metrics")
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.parts
        and (found := gettext_in_fstrings(path.read_text()))
    }
    assert offenders == {}, "call gettext outside the f-string, then put its result in"
