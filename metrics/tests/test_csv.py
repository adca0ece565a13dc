"""CSV import (preview, confirm, all or nothing) and export."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hourglass.models import User
from metrics import csvio, services, weeks
from metrics.models import Entry, EntryRevision

from .factories import EntryFactory, MetricFactory
from .utils import entries_snapshot

IMPORT = reverse("metrics:entries-import", kwargs={"slug": "acme"})
EXPORT = reverse("metrics:entries-export", kwargs={"slug": "acme"})


def upload(text: str | bytes, name: str = "numbers.csv") -> dict:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return {"file": SimpleUploadedFile(name, raw, content_type="text/csv")}


def test_upload_shows_a_preview_and_writes_nothing(
    alice_client, metric, bob_metric, this_week, last_week
):
    EntryFactory(metric=metric, week=last_week, value=30)
    text = (
        "metric,week,value\n"
        f"webinar attendees,{last_week},35\n"
        f"Consultations booked,{this_week},4\n"
    )
    response = alice_client.post(IMPORT, upload(text))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="preview-row"') == 2
    assert "Changes 30" in html and "New" in html
    assert "1 new, 1 changed, 0 unchanged." in html
    assert 'data-testid="confirm-import"' in html
    assert Entry.objects.count() == 1


def test_confirm_writes_every_row_and_queues_once_per_week(
    alice_client,
    metric,
    bob_metric,
    this_week,
    last_week,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    EntryFactory(metric=metric, week=last_week, value=30)
    queued = []
    monkeypatch.setattr(
        "metrics.tasks.rollup_enqueue",
        lambda business_id, week: queued.append(week) or True,
    )
    text = (
        "Metric,Week,Value\n"
        f"webinar attendees,{last_week},35\n"
        f"webinar attendees,{this_week},36\n"
        f"Consultations booked,{this_week},4\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(IMPORT, {"csv_text": text, "confirm": "1"})

    assert response.status_code == 302
    assert Entry.objects.count() == 3
    assert EntryRevision.objects.get().value == 30
    assert sorted(queued) == [last_week, this_week]


def test_a_bad_row_names_line_and_column_and_nothing_is_written(
    alice_client, metric, this_week
):
    before = entries_snapshot()
    future = this_week + weeks.WEEK
    text = (
        "metric,week,value\n"
        f"Webinar attendees,{this_week},10\n"
        f"Nope,{this_week},1\n"
        f"Webinar attendees,{future},abc\n"
        f"Webinar attendees,{this_week},11\n"
    )
    for data in (upload(text), {"csv_text": text, "confirm": "1"}):
        response = alice_client.post(IMPORT, data)
        html = response.content.decode()
        assert response.status_code == 422
        assert "line 3: column “metric”: there is no metric named “Nope”." in html
        assert f"line 4: column “week”: The week of {future} has not started" in html
        assert "line 4: column “value”: “abc” is not a number." in html
        assert "line 5: column “week”: line 2 already gives" in html
        assert 'data-testid="confirm-import"' not in html
    assert entries_snapshot() == before


def test_file_problems_are_named(alice_client, metric):
    cases = [
        (b"\xff\xfe\x00b\x00a\x00d", "is not UTF-8 text"),
        (b"metric,week\nx,2024-01-01\n", "the columns value are missing"),
        (b"metric,week,value\n", "has no rows under its header"),
        (b"", "the columns metric, week, value are missing"),
        (b"metric,week,value\nA,2024-01-01\n", "wrong number of cells"),
        (b"PK\x03\x04\x00\x00binary", "is not a CSV file"),
    ]
    for raw, message in cases:
        response = alice_client.post(IMPORT, upload(raw))
        assert response.status_code == 422, message
        assert message in response.content.decode(), message
    assert not Entry.objects.exists()


def test_size_and_row_caps(alice_client, metric, this_week, monkeypatch):
    big = b"metric,week,value\n" + b"x" * (csvio.MAX_BYTES + 1)
    response = alice_client.post(IMPORT, upload(big))
    assert response.status_code == 422
    assert "at most 1 MB" in response.content.decode()

    monkeypatch.setattr(csvio, "MAX_ROWS", 3)
    rows = "".join(f"Webinar attendees,{this_week},{n}\n" for n in range(4))
    response = alice_client.post(IMPORT, upload("metric,week,value\n" + rows))
    assert response.status_code == 422
    assert "more than 3 rows" in response.content.decode()
    assert not Entry.objects.exists()


def test_an_archived_metric_cannot_be_imported(alice_client, metric, alice, this_week):
    services.metric_archive(metric=metric, acting_user=alice)
    response = alice_client.post(
        IMPORT, upload(f"metric,week,value\nWebinar attendees,{this_week},1\n")
    )
    assert response.status_code == 422
    assert "is archived" in response.content.decode()


def test_another_business_metric_name_is_unknown(alice_client, other_metric, this_week):
    response = alice_client.post(
        IMPORT, upload(f"metric,week,value\nTheir secret number,{this_week},1\n")
    )
    assert response.status_code == 422
    assert "there is no metric named" in response.content.decode()
    assert not Entry.objects.exists()


def test_members_may_not_import(bob_client, bob_metric, this_week):
    text = f"metric,week,value\nConsultations booked,{this_week},1\n"
    assert bob_client.get(IMPORT).status_code == 403
    assert (
        bob_client.post(IMPORT, {"csv_text": text, "confirm": "1"}).status_code == 403
    )
    assert not Entry.objects.exists()


def test_no_file_is_422(alice_client, acme):
    response = alice_client.post(IMPORT, {})
    assert response.status_code == 422
    assert "Choose a CSV file" in response.content.decode()


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_export_defaults_to_the_last_13_weeks(bob_client, metric, this_week, alice):
    services.entry_record(metric=metric, week=this_week, value=40, acting_user=alice)
    services.entry_record(
        metric=metric, week=this_week - weeks.WEEK * 12, value=41, acting_user=alice
    )
    services.entry_record(
        metric=metric, week=this_week - weeks.WEEK * 13, value=42, acting_user=alice
    )

    response = bob_client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = rows_of(response)
    assert [r["value"] for r in rows] == ["41.00", "40.00"]
    assert list(rows[0]) == csvio.EXPORT_COLUMNS
    assert rows[0]["owner"] == "alice@example.com"
    assert rows[0]["entered_by"] == "alice@example.com"


def test_export_of_a_range_with_neutralised_cells(alice_client, acme, alice, this_week):
    m = MetricFactory(business=acme, name="=HYPERLINK(1)", stage="buy")
    services.entry_record(
        metric=m, week=this_week - weeks.WEEK * 30, value=1, acting_user=alice
    )
    start, end = this_week - weeks.WEEK * 31, this_week - weeks.WEEK * 29
    response = alice_client.get(EXPORT + f"?from={start}&to={end}")

    rows = rows_of(response)
    assert [r["metric"] for r in rows] == ["'=HYPERLINK(1)"]


def test_export_imports_back(alice_client, metric, alice, this_week):
    services.entry_record(metric=metric, week=this_week, value=40, acting_user=alice)
    exported = alice_client.get(EXPORT).content

    response = alice_client.post(IMPORT, upload(exported))

    assert response.status_code == 200
    assert "0 new, 0 changed, 1 unchanged." in response.content.decode()


def test_bad_export_dates_are_422(alice_client, acme):
    response = alice_client.get(EXPORT + "?from=yesterday")
    assert response.status_code == 422
    assert "from: Enter a valid date." in response.content.decode()
    response = alice_client.get(EXPORT + "?from=2024-03-01&to=2024-01-01")
    assert response.status_code == 422


def test_export_queries_do_not_grow_with_rows(
    alice_client, acme, alice, this_week, django_assert_max_num_queries
):
    def fill(count):
        for _ in range(count):
            m = MetricFactory(business=acme)
            for w in range(10):
                EntryFactory(
                    metric=m, week=this_week - weeks.WEEK * w, entered_by=alice
                )

    fill(1)
    alice_client.get(EXPORT)
    with CaptureQueriesContext(connection) as small:
        alice_client.get(EXPORT)
    fill(20)
    entry_queries = [q for q in small.captured_queries if "metrics_entry" in q["sql"]]
    assert len(entry_queries) == 1

    with django_assert_max_num_queries(len(small)):
        response = alice_client.get(EXPORT)
    assert len(rows_of(response)) == 210


def test_export_leaves_out_other_businesses(alice_client, other_entry):
    assert rows_of(alice_client.get(EXPORT)) == []


# ---------------------------------------------------------------------------
# Spreadsheets in every language: the BOM, "for Excel", separators on import
# ---------------------------------------------------------------------------


def test_the_export_is_marked_utf8_for_spreadsheets(
    alice_client, acme, alice, this_week
):
    m = MetricFactory(business=acme, name="Zamówienia z Łodzi", stage="buy")
    services.entry_record(metric=m, week=this_week, value=3, acting_user=alice)

    content = alice_client.get(EXPORT).content

    assert content.startswith(b"\xef\xbb\xbf" + b"metric,week,value,")
    assert "Zamówienia z Łodzi,".encode() in content


def revenue(acme, alice, this_week):
    m = MetricFactory(business=acme, name="Chiffre d'affaires", unit="money")
    services.entry_record(
        metric=m, week=this_week, value=Decimal("1250.50"), acting_user=alice
    )
    return m


@pytest.mark.parametrize(
    "code, separator, value",
    # By hand: French, Polish and Romanian write 1250,50 and Excel there
    # expects ";" between columns; English and Korean keep "," and ".".
    [("fr", ";", "1250,50"), ("pl", ";", "1250,50"), ("ro", ";", "1250,50")]
    + [("en", ",", "1250.50"), ("ko", ",", "1250.50")],
)
def test_for_excel_the_export_takes_the_language_separator_and_decimal_mark(
    alice_client, acme, alice, this_week, code, separator, value
):
    revenue(acme, alice, this_week)
    User.objects.filter(pk=alice.pk).update(language=code)

    response = alice_client.get(EXPORT + "?excel=1")

    text = response.content.decode("utf-8-sig")
    header, row = text.splitlines()[:2]
    assert header.startswith(f"metric{separator}week{separator}value{separator}")
    assert row.split(separator)[2] == value
    assert "-excel.csv" in response["Content-Disposition"]


@pytest.mark.parametrize("code", ["fr", "pl", "ro", "en", "ko"])
def test_an_export_for_excel_imports_back_unchanged(
    alice_client, acme, alice, this_week, code
):
    revenue(acme, alice, this_week)
    User.objects.filter(pk=alice.pk).update(language=code)
    exported = alice_client.get(EXPORT + "?excel=1").content

    response = alice_client.post(IMPORT, upload(exported))

    assert response.status_code == 200, response.content.decode()[:300]
    (row,) = response.context["preview"].rows
    assert (row.problems, row.status) == ([], csvio.Status.UNCHANGED)


@pytest.mark.parametrize(
    "text, expected",
    [
        # By hand: the same number as French, Polish, Romanian spreadsheets
        # save it, and a tab-separated file.
        ("metric;week;value\nRevenue;{week};1250,5\n", Decimal("1250.50")),
        ("metric;week;value\nRevenue;{week};1.250,5\n", Decimal("1250.50")),
        ("metric;week;value\nRevenue;{week};1\u00a0250,5\n", Decimal("1250.50")),
        ("metric;week;value\nRevenue;{week};1250\n", Decimal("1250.00")),
        ("metric\tweek\tvalue\nRevenue\t{week}\t99.5\n", Decimal("99.50")),
        ('metric,week,value\nRevenue,{week},"1250.5"\n', Decimal("1250.50")),
    ],
)
def test_the_import_reads_the_file_separator_and_decimal_mark(
    alice_client, acme, this_week, text, expected
):
    MetricFactory(business=acme, name="Revenue", unit="money")

    response = alice_client.post(IMPORT, upload(text.format(week=this_week)))

    (row,) = response.context["preview"].rows
    assert row.problems == []
    assert row.value == expected


def test_columns_separated_otherwise_get_a_message_that_says_so(alice_client, acme):
    response = alice_client.post(IMPORT, upload("metric|week|value\nx|2024-01-01|1\n"))

    problems = " ".join(response.context["preview"].problems)
    assert "not separated by a comma, a semicolon or a tab" in problems
    assert "metric|week|value" in problems
