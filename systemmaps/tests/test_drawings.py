"""The worker draws the maps (systemmaps/rendering.py): the map and version pages
show a "Drawing the map…" placeholder that polls until the drawing (or why it
failed) replaces it, one job per drawing however often the pages ask, failures
remembered, Graphviz stopped past its time budget, downloads answered 202 until
their file is drawn; tidy-up bounded by size and time; the download rate limit."""

import json
import os
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hourglass import ratelimit
from hourglass.tests.utils import HTMX, get_drawn
from systemmaps import rendering, services, tasks
from systemmaps.layout import LayoutError
from systemmaps.models import SystemMap
from systemmaps.tests.factories import chain_graph, make_map, webinar_graph
from systemmaps.tests.utils import maps_snapshot, membership, step


def url(name: str, system_map: SystemMap, **kwargs) -> str:
    return reverse(
        f"systemmaps:{name}", kwargs={"slug": "acme", "pk": system_map.pk, **kwargs}
    )


def poll_until_drawn(client: Client, poll_url: str, timeout: float = 60.0):
    """Ask as the placeholder does (htmx, once in a while) until something other
    than 204 (still drawing) comes back."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(poll_url, headers=HTMX)
        if response.status_code != 204:
            return response
        time.sleep(0.1)
    raise AssertionError("the worker did not draw the map")


def poll_url_of(html: str) -> str:
    start = html.index('hx-get="') + len('hx-get="')
    return html[start : html.index('"', start)].replace("&amp;", "&")


def fake_dot(tmp_path, monkeypatch, script: str):
    """A `dot` that counts its runs (in tmp_path/"runs") and then runs `script`."""
    runs = tmp_path / "runs"
    dot = tmp_path / "dot"
    dot.write_text(f'#!/bin/sh\necho $$ >> "{runs}"\n{script}\n')
    dot.chmod(0o755)
    monkeypatch.setenv("GRAPHVIZ_DOT", str(dot))
    return runs


def run_count(runs) -> int:
    return len(runs.read_text().split()) if runs.exists() else 0


# ---------------------------------------------------------------------------
# The placeholder, then the drawing (a real worker)
# ---------------------------------------------------------------------------


def test_map_page_shows_a_placeholder_then_the_workers_drawing(
    map_worker, alice_client, webinar_map
):
    page = alice_client.get(webinar_map.get_absolute_url())

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="map-svg"' not in html
    assert "Drawing the map…" in html
    assert 'role="status"' in html and 'aria-live="polite"' in html
    assert 'hx-trigger="every 1s"' in html
    # Without JavaScript, a plain link reloads the page.
    assert f'href="{webinar_map.get_absolute_url()}"' in html

    drawn = poll_until_drawn(alice_client, poll_url_of(html))

    assert drawn.status_code == 200
    assert 'data-testid="map-svg"' in drawn.content.decode()
    assert "Onboard new client" in drawn.content.decode()
    assert "hx-get" not in drawn.content.decode()
    again = alice_client.get(webinar_map.get_absolute_url()).content.decode()
    assert 'data-testid="map-svg"' in again and "Drawing the map…" not in again


def test_version_page_shows_a_placeholder_then_that_versions_drawing(
    map_worker, client_for, bob, webinar_map
):
    client = client_for(bob)
    page = client.get(url("revision-detail", webinar_map, version=1))
    assert 'data-testid="revision-svg"' not in page.content.decode()

    drawn = poll_until_drawn(client, poll_url_of(page.content.decode()))

    assert 'data-testid="revision-svg"' in drawn.content.decode()
    assert "Consultation call" in drawn.content.decode()


def test_download_answers_202_while_drawing_then_the_file(
    map_worker, client_for, bob, webinar_map
):
    client = client_for(bob)
    export = url("map-export", webinar_map, fmt="png")

    waiting = client.get(export)

    assert waiting.status_code == 202
    assert "Preparing your download…" in waiting.content.decode()
    assert 'hx-trigger="every 2s"' in waiting.content.decode()
    assert "http-equiv" not in waiting.content.decode()
    deadline = time.monotonic() + 60
    while (asked := client.get(export, headers=HTMX)).status_code == 202:
        assert time.monotonic() < deadline, "the worker did not draw the file"
        time.sleep(0.1)
    # The waiting page's question is answered with where the file is.
    assert asked["HX-Redirect"] == export
    response = client.get(export)
    assert response.status_code == 200
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert response["Content-Disposition"].startswith("attachment;")


# ---------------------------------------------------------------------------
# One job per drawing (counted on a broker of the test's own)
# ---------------------------------------------------------------------------


def test_repeated_loads_queue_one_job_per_drawing(
    filesystem_broker,
    alice_client,
    acme,
    bob,
    webinar_map,
    django_capture_on_commit_callbacks,
):
    # A step with an owner: the map page's drawing shows the badge.
    services.step_update(node=step(webinar_map, "call"), owner=membership(bob, acme))
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            page = alice_client.get(webinar_map.get_absolute_url())
        poll = poll_url_of(page.text)
        for _ in range(5):
            assert alice_client.get(poll, headers=HTMX).status_code == 204
    assert filesystem_broker() == 1

    # Other drawings are other jobs: the version page's (no badges), a PNG.
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            alice_client.get(url("revision-detail", webinar_map, version=1))
            alice_client.get(url("map-export", webinar_map, fmt="png"))
    assert filesystem_broker() == 3


def test_a_lost_job_is_queued_again_once_its_marker_expires(
    filesystem_broker,
    alice_client,
    webinar_map,
    django_capture_on_commit_callbacks,
    settings,
):
    settings.MAP_DRAWING_PENDING_SECONDS = 1
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.get(webinar_map.get_absolute_url())
        alice_client.get(webinar_map.get_absolute_url())
    assert filesystem_broker() == 1

    time.sleep(1.5)  # the job was lost: nobody drew it before the marker ran out
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.get(webinar_map.get_absolute_url())
    assert filesystem_broker() == 2


def test_the_page_does_not_draw_in_the_request(
    alice_client, webinar_map, tmp_path, monkeypatch
):
    runs = fake_dot(tmp_path, monkeypatch, "exit 1")

    page = alice_client.get(webinar_map.get_absolute_url())
    alice_client.get(url("map-export", webinar_map, fmt="pdf"))

    assert page.status_code == 200
    assert run_count(runs) == 0


def test_a_changed_owner_is_a_new_drawing(alice_client, acme, bob, webinar_map):
    before = get_drawn(alice_client, webinar_map.get_absolute_url()).content.decode()
    services.step_update(node=step(webinar_map, "call"), owner=membership(bob, acme))

    after = alice_client.get(webinar_map.get_absolute_url()).content.decode()

    assert 'data-testid="map-svg"' in before
    assert "Drawing the map…" in after


# ---------------------------------------------------------------------------
# Failures: remembered, and the time budget
# ---------------------------------------------------------------------------


def test_a_failed_drawing_is_shown_and_remembered(
    alice_client, webinar_map, tmp_path, monkeypatch
):
    runs = fake_dot(tmp_path, monkeypatch, 'echo "boom" >&2\nexit 1')

    first = get_drawn(alice_client, webinar_map.get_absolute_url())
    second = get_drawn(alice_client, webinar_map.get_absolute_url())
    poll = alice_client.get(url("map-drawing", webinar_map), headers=HTMX)

    for response in (first, second, poll):
        html = response.content.decode()
        assert response.status_code == 200
        assert 'role="alert"' in html and "boom" in html
        assert "hx-get" not in html
    assert run_count(runs) == 1


def test_a_download_that_cannot_be_drawn_goes_back_to_the_map_with_the_message(
    alice_client, webinar_map, tmp_path, monkeypatch
):
    fake_dot(tmp_path, monkeypatch, 'echo "boom" >&2\nexit 1')

    response = get_drawn(alice_client, url("map-export", webinar_map, fmt="svg"))

    assert response.status_code == 302
    assert response.url == webinar_map.get_absolute_url()
    page = alice_client.get(response.url).content.decode()
    assert "boom" in page


def test_graphviz_past_the_time_budget_is_stopped_with_a_message(
    alice_client, webinar_map, tmp_path, monkeypatch, settings
):
    settings.MAP_DRAWING_TIMEOUT = 0.5
    runs = fake_dot(tmp_path, monkeypatch, "exec sleep 30")

    page = get_drawn(alice_client, webinar_map.get_absolute_url()).content.decode()

    assert "too big to draw" in page and "0.5 seconds" in page
    assert 'role="alert"' in page
    (pid,) = runs.read_text().split()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)  # killed, not left running


def test_a_job_delivered_twice_draws_once(webinar_map, tmp_path, monkeypatch):
    args = (webinar_map.pk, webinar_map.version, "svg", True)

    assert tasks.map_draw(*args) == "ready"
    runs = fake_dot(tmp_path, monkeypatch, "exit 1")
    assert tasks.map_draw(*args) == "done already"

    assert run_count(runs) == 0


def test_a_job_for_a_map_or_version_that_is_gone_does_nothing(webinar_map):
    assert tasks.map_draw(webinar_map.pk, 9, "svg", False) == "gone"
    assert tasks.map_draw(webinar_map.pk + 1000, 1, "svg", False) == "gone"


# ---------------------------------------------------------------------------
# The poll endpoints
# ---------------------------------------------------------------------------


def test_poll_without_htmx_goes_to_the_page(alice_client, webinar_map):
    response = alice_client.get(url("revision-drawing", webinar_map, version=1))

    assert response.status_code == 302
    assert response.url == url("revision-detail", webinar_map, version=1)
    assert "HX-Request" in response["Vary"]


def test_placeholder_stops_asking_after_two_minutes_and_says_why(
    alice_client, webinar_map
):
    since = int(time.time()) - 121

    response = alice_client.get(
        url("map-drawing", webinar_map) + f"?since={since}", headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "is the Celery worker running?" in html
    assert "hx-get" not in html
    assert f'href="{webinar_map.get_absolute_url()}"' in html


@pytest.mark.parametrize("htmx", [False, True])
def test_outsider_gets_404_from_the_poll_endpoints(
    client_for, charlie, webinar_map, htmx
):
    client = client_for(charlie)
    headers = HTMX if htmx else {}

    for poll in (
        url("map-drawing", webinar_map),
        url("revision-drawing", webinar_map, version=1),
    ):
        assert client.get(poll, headers=headers).status_code == 404
    assert cache.get(rendering.drawing_key(webinar_map.pk, 1, None, "svg")) is None


def test_map_page_and_poll_queries_do_not_grow_with_the_map(
    alice_client, acme, alice, django_assert_max_num_queries
):
    small = make_map(acme, alice, "Small", graph=webinar_graph("Small"))
    graph = chain_graph("Big", 300)
    graph["edges"] += [
        {"id": f"x{i}", "source": f"t{i}", "target": f"t{i + 2}", "label": "skip"}
        for i in range(0, 290, 2)
    ]
    big = make_map(acme, alice, "Big", graph=graph)

    def counted(path, **extra) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert alice_client.get(path, **extra).status_code in (200, 204)
        return len(queries)

    page = counted(small.get_absolute_url())
    poll = counted(url("map-drawing", small), headers=HTMX)
    with django_assert_max_num_queries(page):
        alice_client.get(big.get_absolute_url())
    with django_assert_max_num_queries(poll):
        alice_client.get(url("map-drawing", big), headers=HTMX)


# ---------------------------------------------------------------------------
# Tidy-up in the request, bounded
# ---------------------------------------------------------------------------


def test_tidy_refuses_a_map_over_the_step_limit_naming_it(
    client_for, erin, webinar_map, settings
):
    settings.MAP_TIDY_MAX_STEPS = 5
    before = maps_snapshot()

    response = client_for(erin).post(url("map-tidy", webinar_map), follow=True)

    assert "up to 5 steps; this one has 9" in response.content.decode()
    assert maps_snapshot() == before


def test_layout_json_refuses_a_graph_over_the_arrow_limit_naming_it(
    client_for, erin, webinar_map, settings
):
    settings.MAP_TIDY_MAX_ARROWS = 3
    response = client_for(erin).post(
        url("map-layout", webinar_map),
        json.dumps(webinar_graph()),
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["error"] == "too-big"
    assert "up to 3 arrows" in response.json()["message"]


def test_tidy_past_its_time_budget_stops_graphviz_with_a_message(
    tmp_path, monkeypatch, settings
):
    settings.MAP_TIDY_TIMEOUT = 0.3
    fake_dot(tmp_path, monkeypatch, "exec sleep 30")
    graph = webinar_graph()

    with pytest.raises(LayoutError) as raised:
        rendering.tidy_positions(graph["nodes"], graph["edges"])

    assert raised.value.code == "timeout"
    assert "longer than 0.3 seconds" in str(raised.value)


def test_tidy_within_the_limits_still_lays_out(webinar_map):
    graph = webinar_graph()

    positions = rendering.tidy_positions(graph["nodes"], graph["edges"])

    assert set(positions) == {n["id"] for n in graph["nodes"]}


# ---------------------------------------------------------------------------
# The download rate limit (counted, never timed)
# ---------------------------------------------------------------------------


def test_map_downloads_count_against_the_export_limit(
    client_for, bob, webinar_map, settings
):
    settings.RATE_LIMITS_ENABLED = True
    client = client_for(bob)
    allowed = ratelimit.RULES["export"]["user"].count
    # Waiting for a drawing is not a download: nothing counted.
    assert client.get(url("map-export", webinar_map, fmt="svg")).status_code == 202
    for _ in range(allowed):
        assert client.get(url("map-export", webinar_map, fmt="json")).status_code == 200

    refused = client.get(url("map-export", webinar_map, fmt="mmd"))

    assert refused.status_code == ratelimit.TOO_MANY
    assert "Too many downloads for now." in refused.content.decode()
    assert int(refused["Retry-After"]) > 0


@pytest.mark.parametrize("code", ["fr", "ko", "pl", "ro"])
def test_the_worker_draws_the_badges_in_the_language_of_the_page(
    alice_client, alice, webinar_map, code
):
    """The drawing is made by the worker, far from the request: the badges
    (★ Critical …) must still be in the words of the person looking."""
    from django.utils import translation

    from hourglass.models import User

    call = step(webinar_map, "call")
    type(call).objects.filter(pk=call.pk).update(critical=True)
    User.objects.filter(pk=alice.pk).update(language=code)
    url = reverse(
        "systemmaps:map-detail",
        kwargs={"slug": webinar_map.business.slug, "pk": webinar_map.pk},
    )

    page = get_drawn(alice_client, url).content.decode()

    with translation.override(code):
        critical = translation.gettext("Critical")
    assert critical != "Critical"
    assert critical in page
    assert "★\u00a0Critical" not in page
