"""Reading Lucidchart's "Export → CSV of shape data" (`lucid.read_lucid_csv`)."""

import csv
import io

import pytest

from hourglass.archive import ImportInvalid
from systemmaps.graph import has_errors, lint
from systemmaps.interop import page_document
from systemmaps.lucid import MAX_ROWS, looks_like_lucid_csv, read_lucid_csv
from systemmaps.schema import MAX_NODES
from systemmaps.transfer import MAX_IMPORT_BYTES, import_data

HEADER = (
    "Id,Name,Shape Library,Page ID,Contained By,Group,Line Source,"
    "Line Destination,Source Arrow,Destination Arrow,Status,Text Area 1,"
    "Text Area 2,Text Area 3,Comments"
)

# A bakery's two pages as Lucidchart exports them: a document row, page rows,
# a pool with two lanes (the lanes are shapes contained by the pool), a legend,
# a note, lines between shapes, one with a loose end, one to the legend, one
# drawn backwards (its head at the source) and one reaching the other page.
BAKERY = f"""{HEADER}
1,Document,,,,,,,,,Draft,Bakery systems,,,
2,Page,,,,,,,,,,Orders,,,
3,Page,,,,,,,,,,Delivery,,,
4,Pool,Containers,2,,,,,,,,Bakery,,,
5,Swim Lane,Containers,2,4,,,,,,,Zakup,,,
6,Swim Lane,Containers,2,4,,,,,,,Kitchen,,,
7,Terminator,Flowchart Shapes,2,5,,,,,,,Order received,,,
8,Process,Flowchart Shapes,2,6,,,,,,,"Bake and decorate
(day before)",Oven 2,,A comment
9,Decision,Flowchart Shapes,2,5,,,,,,,Paid?,,,
10,Start/End,Flowchart Shapes,2,,,,,,,,Done,,,
11,Text,Standard,2,,,,,,,,Legend: blue = online,,,
12,Process,Flowchart Shapes,2,,,,,,,,,,,
13,Line,,2,,,7,8,None,Arrow,,,,,
14,Line,,2,,,8,9,None,Arrow,,,,,
15,Line,,2,,,9,10,None,Arrow,,yes,,,
16,Line,,2,,,9,,None,Arrow,,no,,,
17,Line,,2,,,11,7,None,Arrow,,,,,
18,Line,,2,,,8,9,Arrow,None,,no,,,
19,Process,Flowchart Shapes,3,,,,,,,,Pack,,,
20,Circle,Flowchart Shapes,3,,,,,,,,Delivered,,,
21,Ellipse,Flowchart Shapes,3,,,,,,,,Van loaded,,,
22,Line,,3,,,21,19,None,Arrow,,,,,
23,Line,,3,,,19,20,None,Arrow,,,,,
24,Line,,3,,,19,8,None,Arrow,,,,,
"""


LANE = (
    "Swimlanes, pools, lanes and tables hold steps but are not steps; "
    "the steps inside them are read."
)


def pages_of(text, encoding="utf-8"):
    return read_lucid_csv(text.encode(encoding))


def problems_of(raw):
    with pytest.raises(ImportInvalid) as caught:
        read_lucid_csv(raw if isinstance(raw, bytes) else raw.encode())
    return caught.value.problems


def arrows(page):
    return [(e["source"], e["target"], e["label"]) for e in page.edges]


def counted_apart(text):
    """Per page title: (steps, decisions, arrows) read from the CSV with the
    csv module and the documented meaning of the columns, nothing else."""
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    not_steps = {"page", "document", "line", "text", "pool", "swim lane"}
    pages = {row["Id"]: row["Text Area 1"] for row in rows if row["Name"] == "Page"}
    steps = {
        row["Id"]: row
        for row in rows
        if row["Name"].lower() not in not_steps and row["Text Area 1"].strip()
    }
    counts = {title: [0, 0, 0] for title in pages.values()}
    for row in steps.values():
        counts[pages[row["Page ID"]]][0] += 1
        counts[pages[row["Page ID"]]][1] += row["Name"] == "Decision"
    for row in rows:
        ends = [steps.get(row["Line Source"]), steps.get(row["Line Destination"])]
        if row["Name"] == "Line" and all(
            end and end["Page ID"] == row["Page ID"] for end in ends
        ):
            counts[pages[row["Page ID"]]][2] += 1
    return {title: tuple(values) for title, values in counts.items()}


def test_each_page_row_is_a_page_with_its_steps_and_lines():
    orders, delivery = pages_of(BAKERY)
    assert (orders.title, delivery.title) == ("Orders", "Delivery")
    assert {
        page.title: tuple(page.counts.values()) for page in (orders, delivery)
    } == counted_apart(BAKERY)
    assert [(n["id"], n["kind"], n["label"]) for n in orders.nodes] == [
        ("7", "terminus", "Order received"),
        ("8", "task", "Bake and decorate\n(day before)"),
        ("9", "decision", "Paid?"),
        ("10", "terminus", "Done"),
    ]
    assert [(n["kind"], n["label"]) for n in delivery.nodes] == [
        ("task", "Pack"),
        ("terminus", "Delivered"),
        ("terminus", "Van loaded"),
    ]
    assert all(n["x"] is None and n["y"] is None for n in orders.nodes)


def test_a_line_drawn_backwards_points_the_way_its_head_does():
    orders, _delivery = pages_of(BAKERY)
    assert arrows(orders) == [
        ("7", "8", ""),
        ("8", "9", ""),
        ("9", "10", "yes"),
        ("9", "8", "no"),
    ]


def test_what_is_not_a_step_is_dropped_with_its_reason():
    orders, delivery = pages_of(BAKERY)
    assert [(d.what, d.why) for d in orders.dropped] == [
        (
            "Pool “Bakery” (row 5)",
            LANE,
        ),
        (
            "Swim Lane “Zakup” (row 6)",
            LANE,
        ),
        (
            "Swim Lane “Kitchen” (row 7)",
            LANE,
        ),
        ("Text “Legend: blue = online” (row 12)", "Free text is not a step."),
        ("Process (row 13)", "A shape without text is not a step."),
        (
            "Line from “Paid?” to “?” (row 17)",
            "It has a loose end: it is not attached to a shape at both ends.",
        ),
        (
            "Line from “Legend: blue = online” to “Order received” (row 18)",
            "One of its ends is not a step (text, a container, a group or an image).",
        ),
    ]
    assert [(d.what, d.why) for d in delivery.dropped] == [
        (
            "Line from “Pack” to “Bake and decorate (day before)” (row 25)",
            "It joins a shape that is not on this page.",
        )
    ]


def test_a_lane_that_names_a_stage_gives_it_to_the_shapes_inside():
    orders, _delivery = pages_of(BAKERY)
    assert {n["label"]: n["stage"] for n in orders.nodes} == {
        "Order received": "buy",
        "Bake and decorate\n(day before)": None,
        "Paid?": "buy",
        "Done": None,
    }


def test_a_container_inside_a_container_passes_on_the_outer_stage():
    text = (
        f"{HEADER}\n1,Page,,,,,,,,,,P,,,\n"
        "2,Swim Lane,Containers,1,,,,,,,,Trust,,,\n"
        "3,Container,Containers,1,2,,,,,,,Box,,,\n"
        "4,Process,Flowchart Shapes,1,3,,,,,,,Call,,,\n"
    )
    (page,) = pages_of(text)
    assert [(n["label"], n["stage"]) for n in page.nodes] == [("Call", "trust")]


def test_further_text_areas_become_the_step_s_notes():
    orders, _delivery = pages_of(BAKERY)
    assert orders.nodes[1]["notes"] == "Oven 2"
    assert orders.nodes[0]["notes"] is None


def test_a_semicolon_file_with_a_byte_order_mark_and_crlf_reads_the_same():
    semicolons = BAKERY.replace(",", ";").replace("\n", "\r\n")
    # (No comma inside a field of BAKERY, so the swap keeps its fields.)
    assert "," not in semicolons
    read = pages_of("\ufeff" + semicolons)
    expected = pages_of(BAKERY)
    assert [(p.title, p.nodes, p.edges) for p in read] == [
        (p.title, p.nodes, p.edges) for p in expected
    ]
    assert looks_like_lucid_csv(("\ufeff" + semicolons).encode())


def test_without_page_rows_everything_is_one_page_named_by_the_document():
    text = (
        f"{HEADER}\n1,Document,,,,,,,,,,My flow,,,\n"
        "2,Terminator,Flowchart Shapes,,,,,,,,,Start,,,\n"
        "3,Process,Flowchart Shapes,,,,,,,,,Work,,,\n"
        "4,Line,,,,,2,3,None,Arrow,,,,,\n"
    )
    (page,) = pages_of(text)
    assert page.title == "My flow"
    assert page.counts == {"steps": 2, "decisions": 0, "arrows": 1}


def test_each_page_imports_as_a_lint_clean_map():
    text = (
        f"{HEADER}\n1,Page,,,,,,,,,,Orders,,,\n"
        "2,Terminator,Flowchart Shapes,1,,,,,,,,Order in,,,\n"
        "3,Decision,Flowchart Shapes,1,,,,,,,,Paid?,,,\n"
        "4,Process,Flowchart Shapes,1,,,,,,,,Bake,,,\n"
        "5,Process,Flowchart Shapes,1,,,,,,,,Send a reminder,,,\n"
        "6,Terminator,Flowchart Shapes,1,,,,,,,,Delivered,,,\n"
        "7,Line,,1,,,2,3,None,Arrow,,,,,\n"
        "8,Line,,1,,,3,4,None,Arrow,,yes,,,\n"
        "9,Line,,1,,,3,5,None,Arrow,,no,,,\n"
        "10,Line,,1,,,5,3,None,Arrow,,,,,\n"
        "11,Line,,1,,,4,6,None,Arrow,,,,,\n"
    )
    (page,) = pages_of(text)
    imported = import_data(page_document(page))
    graph = imported.graph
    assert graph["name"] == "Orders"
    assert len(graph["nodes"]) == 5 and len(graph["edges"]) == 5
    assert not has_errors(lint(graph["nodes"], graph["edges"]))


def test_shapes_are_told_by_whole_words_of_their_name():
    text = (
        f"{HEADER}\n1,Page,,,,,,,,,,P,,,\n"
        "2,Vertical Swim Lane,Containers,1,,,,,,,,Know,,,\n"
        "3,Horizontal Pool,Containers,1,,,,,,,,Pool,,,\n"
        "4,Planet,Custom,1,2,,,,,,,Launch,,,\n"
        "5,Group,,1,,,,,,,,,,,\n"
    )
    (page,) = pages_of(text)
    assert [(n["label"], n["kind"], n["stage"]) for n in page.nodes] == [
        ("Launch", "task", "know")
    ]
    assert [d.what for d in page.dropped] == [
        "Vertical Swim Lane “Know” (row 3)",
        "Horizontal Pool “Pool” (row 4)",
        "Group (row 6)",
    ]


# --- errors ------------------------------------------------------------------


def test_a_repeated_id_names_both_rows():
    text = (
        f"{HEADER}\n1,Page,,,,,,,,,,P,,,\n"
        "2,Process,,1,,,,,,,,A,,,\n2,Process,,1,,,,,,,,B,,,\n"
    )
    assert problems_of(text) == ["Row 4 repeats the Id 2 of row 3."]


def test_a_row_without_an_id_is_named_as_a_spreadsheet_counts_rows():
    text = f"{HEADER}\n1,Page,,,,,,,,,,P,,,\n\n,,,\n,Process,,1,,,,,,,,A,,,\n"
    assert problems_of(text) == ["Row 5 has no Id."]


def test_a_page_id_that_is_no_page_is_named():
    text = (
        f"{HEADER}\n1,Page,,,,,,,,,,P,,,\n2,Page,,,,,,,,,,Q,,,\n"
        "3,Process,,9,,,,,,,,A,,,\n"
    )
    assert problems_of(text) == ["Row 4: Page ID “9” is not the Id of a page."]


def test_a_csv_without_the_columns_is_refused():
    assert problems_of("Name,Text Area 1\nProcess,A\n") == [
        "This is not a Lucidchart CSV of shape data: the first row has no column “Id”."
    ]


def test_a_header_alone_is_refused():
    assert problems_of(f"{HEADER}\n") == ["The file has a header row but no shapes."]


def test_too_many_rows_are_refused():
    rows = "\n".join(f"{i},Process,,,,,,,,,,Step,,," for i in range(MAX_ROWS + 2))
    assert problems_of(f"{HEADER}\n{rows}\n") == [
        f"The file has more than {MAX_ROWS} rows; a map needs fewer."
    ]


def test_a_page_with_more_steps_than_a_map_holds_is_refused():
    shapes = "\n".join(
        f"{i},Process,,1,,,,,,,,Step {i},,," for i in range(2, MAX_NODES + 3)
    )
    assert problems_of(f"{HEADER}\n1,Page,,,,,,,,,,Big,,,\n{shapes}\n") == [
        f"The page “Big” has {MAX_NODES + 1} steps; a map holds at most {MAX_NODES}."
    ]


def test_a_file_over_the_size_limit_is_refused():
    raw = f"{HEADER}\n1,Page,,,,,,,,,,{'x' * MAX_IMPORT_BYTES},,,\n".encode()
    assert problems_of(raw) == [
        f"The file is {len(raw)} bytes; at most {MAX_IMPORT_BYTES} bytes (1 MB) "
        "can be imported."
    ]


def test_an_unreadable_field_is_refused_with_its_row():
    # Longer than the csv module reads in one field (128 KiB).
    text = f'{HEADER}\n1,Page,,,,,,,,,,P,,,\n2,Process,,1,,,,,,,,"{"x" * 200_000}",,,\n'
    assert problems_of(text) == [
        "Row 3 cannot be read as CSV: a field is too long or a quote is not closed."
    ]


def test_bytes_that_are_not_utf8_are_refused():
    before = f"{HEADER}\n1,Page,,,,,,,,,,".encode()
    assert problems_of(before + b"\xff,,,\n") == [
        f"The file is not UTF-8 text (invalid byte at position {len(before)})."
    ]


# --- recognising the format --------------------------------------------------


def test_lucid_csv_is_recognised_and_other_files_are_not():
    assert looks_like_lucid_csv(BAKERY.encode())
    assert looks_like_lucid_csv(b"Id;Name;Line Source;Line Destination\r\n")
    assert not looks_like_lucid_csv(b"flowchart LR\n  A --> B\n")
    assert not looks_like_lucid_csv(b'{"schema_version": 1}')
    assert not looks_like_lucid_csv(b"date,visitors,leads\n2026-01-01,3,1\n")
    assert not looks_like_lucid_csv(b"")
