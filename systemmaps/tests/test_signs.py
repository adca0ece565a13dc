"""One sign per state of a step, from one vocabulary (document.SIGNS), on every
page, in the editor and in the drawings; the words always beside the sign."""

import re
from pathlib import Path

from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from systemmaps import document
from systemmaps.document import SIGN_WORDS, SIGNS
from systemmaps.layout import step_badges
from systemmaps.mermaid import to_mermaid

ROOT = Path(settings.BASE_DIR)
# Where a sign might be written out by hand: the pages, our CSS and JavaScript,
# and the Python that draws and exports maps.
PLACES = [
    *(ROOT / "templates").rglob("*.html"),
    *(ROOT / "static").rglob("*.js"),
    *(ROOT / "static").rglob("*.css"),
    *(ROOT / "systemmaps").glob("*.py"),
    *(ROOT / "systemmaps" / "templatetags").glob("*.py"),
    *(ROOT / "hourglass").glob("*.py"),
    *(ROOT / "metrics").glob("*.py"),
]
# The editor once drew a critical step with a "!" of its own.
JS_BANG = re.compile(r"""["'`]!["'`]""")


def test_every_state_has_its_own_sign_and_words():
    assert len(set(SIGNS.values())) == len(SIGNS)
    assert set(SIGN_WORDS) == set(SIGNS)
    # A flagged problem is not a critical step.
    assert SIGNS[document.PROBLEM] != SIGNS[document.CRITICAL]


def test_no_page_script_or_drawing_writes_a_sign_of_its_own():
    home = ROOT / "systemmaps" / "document.py"
    stray = []
    for path in PLACES:
        if path == home:
            continue
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            found = [s for s in SIGNS.values() if s in line]
            if path.suffix == ".js" and JS_BANG.search(line):
                found.append("!")
            if found:
                stray.append(f"{path.relative_to(ROOT)}:{number}: {''.join(found)}")
    assert stray == [], "Take the sign from document.SIGNS ({% sign %}):\n" + (
        "\n".join(stray)
    )
    assert len(PLACES) > 100  # the globs found the files


def test_the_sign_tag_hides_the_sign_and_signed_adds_the_words():
    template = Template('{% load signs %}{% sign "could" %}|{% signed "critical" %}')
    with translation.override("fr"):
        html = template.render(Context())
    alone, with_words = html.split("|")
    assert alone == '<span class="sign sign-could" aria-hidden="true">⚡</span>'
    assert with_words == (
        '<span class="sign sign-critical" aria-hidden="true">★</span> Critique'
    )


def test_the_editor_gets_the_signs_from_the_vocabulary():
    assert document.editor_config()["signs"] == SIGNS


def test_drawings_and_mermaid_use_the_same_signs_with_their_words():
    details = {"critical": True, "automation": "could", "initials": "AO"}
    assert step_badges(details) == (
        f"AO · {SIGNS['critical']}\u00a0Critical · {SIGNS['could']}\u00a0Could be "
        "automated"
    )
    graph = {
        "schema_version": 1,
        "name": "M",
        "nodes": [{"id": "a", "kind": "task", "label": "Call", "x": 0.0, "y": 0.0}],
        "edges": [],
    }
    text = to_mermaid(graph, {"a": {"automation": "automated"}})
    assert f"Call ({SIGNS['automated']}\u00a0Automated)" in text
