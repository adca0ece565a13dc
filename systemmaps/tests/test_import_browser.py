"""The map import page end to end in real Chromium, by keyboard only: a
diagrams.net file of three pages (the real templates in data/drawio) picked,
its summary read at phone width, one page chosen, the map created and opened."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from systemmaps.models import SystemMap

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLES = Path(__file__).parent / "data" / "drawio"


def three_pages(folder: Path) -> Path:
    """One .drawio file holding the pages of the three sample files, renamed."""
    pages = []
    for number, sample in enumerate(sorted(SAMPLES.glob("*.xml")), start=1):
        diagram = ET.fromstring(sample.read_bytes()).find("diagram")
        diagram.set("name", sample.stem.replace("_", " ").capitalize())
        diagram.set("id", f"page-{number}")
        pages.append(ET.tostring(diagram, encoding="unicode"))
    path = folder / "templates.drawio"
    path.write_text(f'<mxfile host="app.diagrams.net">{"".join(pages)}</mxfile>')
    return path


def fits_the_phone(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def focus_by_tab(page: Page, locator, *, limit: int = 60) -> None:
    """Press Tab until `locator` has the focus, as a keyboard user does."""
    for _ in range(limit):
        if locator.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError("never reached by Tab")


def test_drawio_file_imported_by_keyboard_at_phone_width(
    alice_phone_page: Page, live_server, acme, tmp_path
):
    page = alice_phone_page
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    drawio = three_pages(tmp_path)
    page.goto(f"{live_server.url}/b/acme/maps/import/")

    field = page.get_by_label("Map file")
    focus_by_tab(page, field)
    # Space on the focused field opens the browser's own file dialog; the test
    # hands the file to the field it reached (intercepting that dialog raced
    # with the key press on a busy CI machine).
    field.set_input_files(str(drawio))
    expect(field).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Read the file")).to_be_focused()
    page.keyboard.press("Enter")

    # The summary: nothing created yet, every page with its counts.
    expect(page.get_by_test_id("import-file")).to_contain_text("templates.drawio")
    sections = page.get_by_test_id("import-page")
    expect(sections).to_have_count(3)
    assert not SystemMap.objects.exists()
    assert fits_the_phone(page)
    epc = sections.nth(1)
    expect(epc.get_by_role("heading", level=2)).to_have_text("Epc")
    steps = int(epc.locator('[data-count="steps"]').inner_text())
    arrows = int(epc.locator('[data-count="arrows"]').inner_text())
    assert steps > 0 and arrows > 0

    # Choose the second page: the radios move with the arrow keys.
    first = page.get_by_role("radio").first
    expect(first).to_be_checked()
    focus_by_tab(page, first)
    page.keyboard.press("ArrowDown")
    second = page.get_by_role("radio", name=re.compile(r"^Epc: "))
    expect(second).to_be_checked()
    name = page.locator("#id_name")
    focus_by_tab(page, name)
    page.keyboard.type("Order process")
    stage = page.get_by_role("checkbox", name="Buy")
    focus_by_tab(page, stage)
    page.keyboard.press("Space")
    expect(stage).to_be_checked()
    create = page.get_by_role("button", name="Create")
    focus_by_tab(page, create)
    page.keyboard.press("Enter")

    # The new map's page.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Order process")
    system_map = SystemMap.objects.get()
    assert page.url.endswith(system_map.get_absolute_url())
    assert (system_map.name, system_map.stages) == ("Order process", ["buy"])
    assert system_map.nodes.count() == steps
    assert system_map.edges.count() == arrows
    assert fits_the_phone(page)
    assert problems == []
