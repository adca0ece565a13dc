"""Reading Mermaid flowcharts (`mermaid.read_mermaid`): the syntax of Mermaid's
own flowchart documentation, our own export read back, and hostile text."""

import re

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from hourglass.archive import ImportInvalid
from systemmaps.builtin import TEMPLATES, get_template
from systemmaps.graph import has_errors, lint
from systemmaps.interop import page_document
from systemmaps.mermaid import (
    MAX_SUBGRAPH_DEPTH,
    looks_like_mermaid,
    read_mermaid,
    to_mermaid,
)
from systemmaps.schema import MAX_EDGES, MAX_NODES
from systemmaps.transfer import MAX_IMPORT_BYTES, import_data


def page_of(text):
    pages = read_mermaid(text)
    assert len(pages) == 1
    return pages[0]


def problems_of(text):
    with pytest.raises(ImportInvalid) as caught:
        read_mermaid(text)
    return caught.value.problems


def kinds(page):
    return {node["id"]: node["kind"] for node in page.nodes}


def labels(page):
    return {node["id"]: node["label"] for node in page.nodes}


def stages(page):
    return {node["id"]: node["stage"] for node in page.nodes}


def arrows(page):
    return [(edge["source"], edge["target"], edge["label"]) for edge in page.edges]


def count_statements(text, pattern):
    """How many lines of `text` match `pattern`: the expected figure, counted
    apart from the reader."""
    return sum(1 for line in text.splitlines() if re.match(pattern, line.strip()))


# --- shapes ------------------------------------------------------------------


BOX = "This is the text in the box"


@pytest.mark.parametrize(
    ("node", "kind", "label"),
    [
        (f"id1[{BOX}]", "task", BOX),
        (f"id1({BOX})", "task", BOX),
        (f"id1([{BOX}])", "terminus", BOX),
        (f"id1[[{BOX}]]", "task", BOX),
        ("id1[(Database)]", "task", "Database"),
        (
            "id1((This is the text in the circle))",
            "terminus",
            "This is the text in the circle",
        ),
        (f"id1>{BOX}]", "task", BOX),
        (f"id1{{{BOX}}}", "decision", BOX),
        (f"id1{{{{{BOX}}}}}", "task", BOX),
        (f"id1[/{BOX}/]", "task", BOX),
        (f"id1[\\{BOX}\\]", "task", BOX),
        ("id1[/Christmas\\]", "task", "Christmas"),
        ("id1[\\Go shopping/]", "task", "Go shopping"),
        ("id1(((Stop here)))", "terminus", "Stop here"),
        (f'id1["{BOX}"]', "task", BOX),
        (f'id1{{"{BOX}"}}', "decision", BOX),
        (f'id1( "{BOX}" )', "task", BOX),
    ],
)
def test_each_bracket_shape_gives_its_kind_and_label(node, kind, label):
    page = page_of(f"flowchart LR\n    {node}\n")
    assert kinds(page) == {"id1": kind}
    assert labels(page) == {"id1": label}


@pytest.mark.parametrize(
    ("shape", "kind"),
    [
        ("rect", "task"),
        ("rounded", "task"),
        ("stadium", "terminus"),
        ("terminal", "terminus"),
        ("pill", "terminus"),
        ("circle", "terminus"),
        ("sm-circ", "terminus"),
        ("dbl-circ", "terminus"),
        ("fr-circ", "terminus"),
        ("diam", "decision"),
        ("decision", "decision"),
        ("question", "decision"),
        ("hex", "task"),
        ("cyl", "task"),
        ("doc", "task"),
        ("manual-input", "task"),
    ],
)
def test_each_named_shape_of_mermaid_11_gives_its_kind(shape, kind):
    page = page_of(f'flowchart RL\n    A@{{ shape: {shape}, label: "Step A" }}\n')
    assert kinds(page) == {"A": kind}
    assert labels(page) == {"A": "Step A"}


def test_named_shape_settings_may_span_lines_and_hold_other_keys():
    page = page_of(
        "flowchart TD\n"
        "    A@{\n"
        "      shape: diamond,\n"
        '      label: "Paid, in full?",\n'
        "      w: 60\n"
        "    }\n"
        "    A --> B@{ shape: docs, label: 'quoted' }\n"
    )
    assert kinds(page) == {"A": "decision", "B": "task"}
    assert labels(page)["A"] == "Paid, in full?"
    assert arrows(page) == [("A", "B", "")]


def test_a_node_named_only_by_its_id_is_a_task_labelled_with_its_id():
    page = page_of("---\ntitle: Node\n---\nflowchart LR\n    id\n")
    assert page.title == "Node"
    assert page.nodes == [
        {"id": "id", "kind": "task", "label": "id", "x": None, "y": None, "stage": None}
    ]


def test_the_last_text_given_to_a_node_is_its_label():
    page = page_of("flowchart LR\n  A[First] --> B\n  A{Second}\n  B --> A\n")
    assert labels(page)["A"] == "Second"
    assert kinds(page)["A"] == "decision"


# --- labels ------------------------------------------------------------------


def test_entity_codes_html_entities_and_line_breaks_are_decoded():
    page = page_of(
        "flowchart LR\n"
        '    A["A double quote:#quot;"] --> B["A dec char:#9829;"]\n'
        '    C["#35;1 &amp; &lt;b&gt; ok"] --> D["Bake<br>and<br/>decorate"]\n'
        '    E["<b>bold</b> words"]\n'
    )
    assert labels(page) == {
        "A": 'A double quote:"',
        "B": "A dec char:\u2665",
        "C": "#1 & <b> ok",
        "D": "Bake\nand\ndecorate",
        "E": "bold words",
    }


def test_markdown_marks_inside_words_or_alone_are_text():
    page = page_of('flowchart LR\n  A["`snake_case is 5 * 3, ***very***`"]\n')
    assert labels(page) == {"A": "snake_case is 5 * 3, very"}


def test_markdown_strings_lose_their_markup_and_keep_their_lines():
    page = page_of(
        "flowchart LR\n"
        'subgraph "One"\n'
        '  a("`The **cat**\n'
        '  in the hat`") -- "edge label" --> b{{"`The **dog** in the _hog_`"}}\n'
        "end\n"
    )
    assert labels(page) == {"a": "The cat\nin the hat", "b": "The dog in the hog"}
    assert arrows(page) == [("a", "b", "edge label")]


def test_unicode_text_in_quotes():
    page = page_of('flowchart LR\n    id["This ❤ Unicode"]\n')
    assert labels(page) == {"id": "This ❤ Unicode"}


# --- arrows ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "one_way"),
    [
        ("-->", True),
        ("--->", True),
        ("---->", True),
        ("-.->", True),
        ("-..->", True),
        ("==>", True),
        ("====>", True),
        ("--o", True),
        ("--x", True),
        ("---", False),
        ("----", False),
        ("-.-", False),
        ("===", False),
        ("<-->", False),
        ("o--o", False),
        ("x--x", False),
        ("<==>", False),
    ],
)
def test_every_link_form_is_an_arrow_from_left_to_right(link, one_way):
    # Heads o and x need a space before them (`Bo--oC` is the node `Bo`).
    spaced = " " if link[0] in "ox" else ""
    page = page_of(f"flowchart LR\n    A {link} B\n    B{spaced}{link}C\n")
    assert arrows(page) == [("A", "B", ""), ("B", "C", "")]
    if one_way:
        assert page.notes == []
    else:
        assert page.notes == [
            "2 links without one arrow head were read as arrows from left to right."
        ]


@pytest.mark.parametrize(
    "line",
    [
        "A-- This is the text! ---B",
        "A---|This is the text!|B",
        "A-->|This is the text!|B",
        "A-- This is the text! -->B",
        "A-. This is the text! .-> B",
        "A == This is the text! ==> B",
        'A -- "This is the text!" --> B',
        'A -->|"This is the text!"| B',
        "A -- This is the text! ----> B",
        "A e1@-->|This is the text!| B",
    ],
)
def test_text_on_links_in_each_form(line):
    page = page_of(f"flowchart LR\n   {line}\n")
    assert arrows(page) == [("A", "B", "This is the text!")]


def test_chains_of_links_with_texts():
    page = page_of("flowchart LR\n   A -- text --> B -- text2 --> C\n")
    assert arrows(page) == [("A", "B", "text"), ("B", "C", "text2")]


def test_ampersands_join_every_node_on_the_left_to_every_node_on_the_right():
    page = page_of("flowchart LR\n   a --> b & c--> d\n")
    assert arrows(page) == [
        ("a", "b", ""),
        ("a", "c", ""),
        ("b", "d", ""),
        ("c", "d", ""),
    ]
    page = page_of("flowchart TB\n    A & B--> C & D\n")
    assert sorted(arrows(page)) == [
        ("A", "C", ""),
        ("A", "D", ""),
        ("B", "C", ""),
        ("B", "D", ""),
    ]


def test_the_documentation_s_minimum_length_examples_read_the_same():
    first = page_of(
        "flowchart TD\n"
        "    A[Start] --> B{Is it?}\n"
        "    B -->|Yes| C[OK]\n"
        "    C --> D[Rethink]\n"
        "    D --> B\n"
        "    B ---->|No| E[End]\n"
    )
    second = page_of(
        "flowchart TD\n"
        "    A[Start] --> B{Is it?}\n"
        "    B -- Yes --> C[OK]\n"
        "    C --> D[Rethink]\n"
        "    D --> B\n"
        "    B -- No ----> E[End]\n"
    )
    assert arrows(first) == arrows(second)
    assert labels(first) == labels(second)
    assert kinds(first)["B"] == "decision"


def test_an_invisible_link_is_dropped_with_its_reason():
    page = page_of("flowchart LR\n    A[Order] ~~~ B[Bake]\n    A --> B\n")
    assert arrows(page) == [("A", "B", "")]
    assert [(d.what, d.why) for d in page.dropped] == [
        (
            "Invisible link from “Order” to “Bake”",
            "An invisible link only spaces out Mermaid's drawing; it is not an arrow.",
        )
    ]


def test_a_circle_edge_is_told_from_a_node_starting_with_o():
    page = page_of("flowchart LR\n    dev--- ops\n    A---oB\n")
    assert arrows(page) == [("dev", "ops", ""), ("A", "B", "")]


def test_semicolons_end_statements_and_graph_is_a_flowchart():
    page = page_of("graph TD;\n    A-->B;\n    B-->C;")
    assert arrows(page) == [("A", "B", ""), ("B", "C", "")]


def test_edge_ids_and_their_settings_are_not_steps():
    page = page_of("flowchart LR\n  A e1@==> B\n  e1@{ animate: true }\n  B e2@--> C\n")
    assert sorted(kinds(page)) == ["A", "B", "C"]
    assert arrows(page) == [("A", "B", ""), ("B", "C", "")]
    assert page.notes == ["1 arrow setting (such as an animation) was ignored."]


# --- subgraphs ---------------------------------------------------------------


def test_subgraphs_nested_and_a_title_that_names_a_stage_gives_it():
    page = page_of(
        "flowchart LR\n"
        "  subgraph TOP [Trust]\n"
        "    direction TB\n"
        "    subgraph B1 [Zakup]\n"
        "        direction RL\n"
        "        i1 -->f1\n"
        "    end\n"
        "    subgraph B2\n"
        "        direction BT\n"
        "        i2 -->f2\n"
        "    end\n"
        "  end\n"
        "  A --> TOP --> B\n"
        "  B1 --> B2\n"
        "  subgraph Faire confiance\n"
        "    c1\n"
        "  end\n"
    )
    assert stages(page) == {
        "i1": "buy",
        "f1": "buy",
        "i2": "trust",
        "f2": "trust",
        "A": None,
        "B": None,
        "c1": "trust",
    }
    # Arrows to and from a subgraph are not arrows between steps.
    assert arrows(page) == [("i1", "f1", ""), ("i2", "f2", "")]
    assert [d.what for d in page.dropped] == [
        "Arrow from “A” to “Trust”",
        "Arrow from “Trust” to “B”",
        "Arrow from “Zakup” to “B2”",
    ]
    assert {d.why for d in page.dropped} == {"It joins a subgraph, not a step."}


def test_a_node_sits_in_the_first_subgraph_that_names_it():
    page = page_of(
        "flowchart TB\n"
        "    c1-->a2\n"
        "    subgraph one [Know]\n"
        "    a1-->a2\n"
        "    end\n"
        "    subgraph two [Like]\n"
        "    b1-->b2\n"
        "    end\n"
        "    subgraph three [Refer]\n"
        "    c1-->c2\n"
        "    end\n"
    )
    assert stages(page) == {
        "c1": "refer",
        "a2": "know",
        "a1": "know",
        "b1": "like",
        "b2": "like",
        "c2": "refer",
    }


def test_a_subgraph_title_may_be_quoted_or_several_words():
    page = page_of(
        'flowchart LR\n  subgraph "Repeat"\n    A\n  end\n'
        "  subgraph Order handling\n    B\n  end\n"
        '  subgraph ide1 ["Know"]\n    C\n  end\n'
    )
    assert stages(page) == {
        "A": "repeat",
        "B": None,
        "C": "know",
    }


# --- ignored lines -----------------------------------------------------------


def test_style_class_and_click_lines_are_ignored_with_one_note_per_kind():
    text = (
        "%%{init: {'theme': 'forest'}}%%\n"
        "flowchart LR\n"
        "%% this is a comment A -- text --> B{node}\n"
        "    A:::someclass --> B\n"
        "    B --> C:::other\n"
        "    classDef someclass fill:#f96\n"
        "    classDef other fill:#f9f,stroke:#333,stroke-width:4px;\n"
        "    class A,B someclass\n"
        "    style A fill:#f9f,stroke:#333,stroke-width:4px\n"
        "    style B fill:#bbf,stroke:#f66,stroke-width:2px,color:#fff\n"
        "    style C stroke-dasharray: 5 5\n"
        "    linkStyle 0 stroke:#ff3,stroke-width:4px,color:red;\n"
        '    click A callback "Tooltip for a callback"\n'
        '    click B "https://www.github.com" "This is a tooltip for a link"\n'
        "    accTitle: The title\n"
    )
    page = page_of(text)
    assert arrows(page) == [("A", "B", ""), ("B", "C", "")]
    assert count_statements(text, r"style ") == 3
    assert page.notes == [
        "2 class definitions (classDef) were ignored.",
        "1 class line was ignored.",
        "2 class suffixes (:::) were ignored.",
        "3 style lines were ignored.",
        "1 arrow style line (linkStyle) was ignored.",
        "2 click lines (links or callbacks) were ignored.",
        "1 accessibility title or description was ignored.",
    ]


def test_a_multi_line_accessibility_description_is_skipped_whole():
    page = page_of(
        "flowchart LR\n  accDescr {\n    A --> B is only words here\n  }\n"
        "  accTitle: Orders\n  C --> D\n"
    )
    assert arrows(page) == [("C", "D", "")]
    assert page.notes == ["2 accessibility titles or descriptions were ignored."]


def test_a_front_matter_title_or_our_export_s_comment_names_the_page():
    assert page_of("---\ntitle: Orders\nconfig:\n  x: 1\n---\ngraph\nA").title == (
        "Orders"
    )
    assert page_of("%% Orders #amp; delivery\nflowchart LR\nA").title == (
        "Orders & delivery"
    )
    assert page_of("flowchart LR\nA").title == ""


# --- errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "flowchart LR\n    A -->\n",
            "Line 2, column 10: expected a node id, found “the end of the line”.",
        ),
        (
            'flowchart LR\n  A["open --> B\n',
            'Line 2, column 5: this text is not closed by a quote (").',
        ),
        (
            "flowchart LR\n  A[open --> B\n",
            "Line 2, column 4: this shape is not closed by “]”.",
        ),
        (
            "flowchart LR\n  A -- text B\n",
            "Line 2, column 5: expected the end of the arrow, found “--”.",
        ),
        (
            "flowchart LR\n  subgraph one\n    A\n",
            "Line 4, column 1: the subgraph opened on line 2 is not closed by “end”.",
        ),
        ("flowchart LR\n  A\n  end\n", "Line 3, column 3: “end” closes no subgraph."),
        (
            "flowchart LR\n  A -->|yes B\n",
            "Line 2, column 8: the arrow's text is not closed by “|”.",
        ),
        (
            "---\ntitle: x\n---\nflowchart LR\n  A B\n",
            "Line 5, column 5: expected the end of the line, found “B”.",
        ),
        (
            "hello world\n",
            "Line 1, column 1: expected “flowchart” or “graph”, found “hello”.",
        ),
        (
            'flowchart LR\n  A["`never closed\n',
            'Line 2, column 5: this markdown string is not closed by “`"”.',
        ),
        ("flowchart LR\n  A --> B }\n", "Line 2, column 11: unexpected “}”."),
    ],
)
def test_a_syntax_error_names_the_line_the_column_and_what_was_expected(text, message):
    assert problems_of(text) == [message]


@pytest.mark.parametrize(
    "first", ["sequenceDiagram", "classDiagram", "stateDiagram-v2", "gantt", "pie"]
)
def test_other_mermaid_diagrams_are_refused_by_name(first):
    text = f"%% a comment\n{first}\n    Alice->>John: Hello John\n"
    assert looks_like_mermaid(text.encode())
    assert problems_of(text) == [
        f"This is a Mermaid {first}, not a flowchart: only flowcharts can be imported."
    ]


# --- hostile input -----------------------------------------------------------


def test_subgraphs_nested_too_deep_are_refused():
    depth = MAX_SUBGRAPH_DEPTH + 1
    text = "flowchart LR\n" + "subgraph s\n" * depth + "A\n" + "end\n" * depth
    assert problems_of(text) == [
        f"Line {depth + 1}, column 1: subgraphs are nested more than "
        f"{MAX_SUBGRAPH_DEPTH} deep."
    ]
    nested = MAX_SUBGRAPH_DEPTH
    text = "flowchart LR\n" + "subgraph s\n" * nested + "A\n" + "end\n" * nested
    assert kinds(page_of(text)) == {"A": "task"}


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    text = "flowchart LR\n" + "%%" + "x" * MAX_IMPORT_BYTES + "\n"
    assert problems_of(text.encode())[0].startswith("The file is ")


def test_more_steps_than_a_map_holds_are_refused():
    text = "flowchart LR\n" + "\n".join(f"n{i}" for i in range(MAX_NODES + 1))
    assert problems_of(text) == [
        f"The flowchart has {MAX_NODES + 1} steps; a map holds at most {MAX_NODES}."
    ]


def test_ampersands_cannot_multiply_into_more_arrows_than_a_map_holds():
    side = 46  # 46 × 46 = 2116 arrows, over MAX_EDGES
    left = " & ".join(f"a{i}" for i in range(side))
    right = " & ".join(f"b{i}" for i in range(side))
    assert side * side > MAX_EDGES
    assert problems_of(f"flowchart LR\n{left} --> {right}\n") == [
        f"The flowchart has {side * side} arrows; a map holds at most {MAX_EDGES}."
    ]


def test_a_huge_label_is_cut_to_what_a_map_holds():
    page = page_of(f'flowchart LR\n  A["{"x" * 200_000}"] --> B\n')
    imported = import_data(page_document(page))
    assert len(imported.graph["nodes"][0]["label"]) <= 200


ONE_STEP = {"steps": 1, "decisions": 0, "arrows": 0}
HOSTILE = {
    "long chain": (
        "flowchart LR\n" + "A --> " * 5000 + "B\n",
        ["The flowchart has 5000 arrows; a map holds at most 2000."],
    ),
    "long one-line chain with shapes": (
        "flowchart LR\n" + 'A["x"] --> ' * 60_000 + "B",
        ["The flowchart has 60000 arrows; a map holds at most 2000."],
    ),
    "opened shapes": (
        "flowchart LR\n" + "A[" * 3000,
        ["Line 2, column 2: this shape is not closed by “]”."],
    ),
    "quotes": (
        "flowchart LR\n" + '"' * 10_000,
        ['Line 2, column 1: expected a node id, found “""”.'],
    ),
    "open settings": (
        'flowchart LR\n  A@{ shape: diam, label: "x"',
        [
            "Line 2, column 30: expected a name such as “shape”, "
            "found “the end of the file”."
        ],
    ),
    "open directive": (
        "flowchart LR\n  %%{init: ",
        ["Line 2, column 3: this directive is not closed by “}%%”."],
    ),
    "brackets": (
        "flowchart LR\n" + "(" * 100_000,
        ["Line 2, column 1: unexpected “(”."],
    ),
    "control characters": (
        "\x00\x01flowchart",
        ["Line 1, column 1: unexpected “U+0000”."],
    ),
    "stars": ('flowchart LR\nA["`' + "*a" * 200_000 + '`"]', ONE_STEP),
    "underscores": ('flowchart LR\nA["`' + " _a" * 150_000 + '`"]', ONE_STEP),
    "open front matter": (
        "---\ntitle: never closed\nflowchart LR\n  A\n",
        ["Line 1: the front matter (---) is not closed by a line “---”."],
    ),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_text_gets_its_message_or_its_page(name):
    text, expected = HOSTILE[name]
    if isinstance(expected, list):
        assert problems_of(text) == expected
    else:
        assert page_of(text).counts == expected


def test_invalid_utf8_is_refused_with_its_position():
    assert problems_of(b"flowchart LR\n  A[\xff]\n") == [
        "The file is not UTF-8 text (invalid byte at position 17)."
    ]


# --- through the import, and back from our export ----------------------------


def test_a_flowchart_imports_as_a_lint_clean_map():
    text = (
        "flowchart LR\n"
        "    start([Order received]) --> bake[Bake]\n"
        "    bake --> paid{Paid?}\n"
        "    paid -->|yes| deliver[Deliver]\n"
        "    paid -->|no| remind[Send a reminder] --> paid\n"
        "    deliver --> done([Done])\n"
    )
    page = page_of(text)
    assert page.counts == {"steps": 6, "decisions": 1, "arrows": 6}
    assert count_statements(text, r".*(-->)") == 5
    imported = import_data(page_document(page))
    graph = imported.graph
    assert [node["label"] for node in graph["nodes"]] == [
        "Order received",
        "Bake",
        "Paid?",
        "Deliver",
        "Send a reminder",
        "Done",
    ]
    assert all(node["x"] is not None for node in graph["nodes"])
    assert not has_errors(lint(graph["nodes"], graph["edges"]))


@pytest.mark.parametrize("slug", [template.key for template in TEMPLATES])
def test_our_export_reads_back_as_the_same_kinds_labels_and_arrows(slug):
    graph = get_template(slug).graph
    page = page_of(to_mermaid(graph))
    assert page.title == graph["name"]
    assert [(n["kind"], n["label"]) for n in page.nodes] == [
        (n["kind"], n["label"]) for n in graph["nodes"]
    ]
    index = {node["id"]: position for position, node in enumerate(graph["nodes"])}
    assert [
        (f"n{index[e['source']]}", f"n{index[e['target']]}", e.get("label") or "")
        for e in graph["edges"]
    ] == arrows(page)
    imported = import_data(page_document(page))
    assert not has_errors(lint(imported.graph["nodes"], imported.graph["edges"]))


def two_steps(label, arrow=None):
    return {
        "schema_version": 1,
        "name": "Map",
        "nodes": [
            {"id": "a", "kind": "terminus", "label": "Start", "x": 0, "y": 0},
            {"id": "b", "kind": "task", "label": label, "x": 220, "y": 0},
        ],
        "edges": [{"id": "e1", "source": "a", "target": "b", "label": arrow}],
    }


@pytest.mark.parametrize(
    "label",
    [
        'He said "hi"',
        "#1 of #35; codes",
        "yes | no",
        "<b>not bold</b> & &amp;",
        "100% %%{init}%%",
        "Bake and decorate\n(day before)",
        "`**not markdown**`",
    ],
)
def test_labels_with_mermaid_syntax_in_them_survive_the_round_trip(label):
    page = page_of(to_mermaid(two_steps(label, arrow=label.replace("\n", " "))))
    assert labels(page)["n1"] == label
    assert arrows(page) == [("n0", "n1", label.replace("\n", " "))]


def test_our_badges_are_stripped_in_any_language_and_initials_alone_kept():
    graph = get_template("webinar").graph
    first, second, third = (node["id"] for node in graph["nodes"][1:4])
    details = {
        first: {"initials": "AO", "critical": True, "automation": "could"},
        second: {"initials": "AO"},
        third: {"automation": "automated"},
    }
    for language in ("en", "fr", "ko", "pl", "ro"):
        with translation.override(language):
            text = to_mermaid(graph, details)
        got = [node["label"] for node in page_of(text).nodes[1:4]]
        assert got == [
            graph["nodes"][1]["label"],
            graph["nodes"][2]["label"] + " (AO)",
            graph["nodes"][3]["label"],
        ], language


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list('ab Z9é❤"#|<>%&`;:-[](){}*_\n')),
        min_size=1,
        max_size=40,
    ).filter(lambda text: text.strip())
)
def test_any_label_survives_our_export_and_back(label):
    expected = "\n".join(line.strip() for line in label.split("\n") if line.strip())
    page = page_of(to_mermaid(two_steps(label)))
    assert labels(page)["n1"] == expected


# Flowcharts written for these tests after each syntax example of Mermaid's
# flowchart documentation, with what a reader should find: (steps, arrows).
DOCUMENTATION_EXAMPLES = [
    ("---\ntitle: Node\n---\nflowchart LR\n    id\n", 1, 0),
    ("flowchart LR\n    id1[This is the text in the box]\n", 1, 0),
    ('flowchart LR\n    id["This ❤ Unicode"]\n', 1, 0),
    (
        "---\nconfig:\n  htmlLabels: false\n---\nflowchart LR\n"
        '    markdown["`This **is** _Markdown_`"]\n'
        '    newLines["`Line1\n    Line 2\n    Line 3`"]\n'
        "    markdown --> newLines\n",
        2,
        1,
    ),
    ("flowchart TD\n    Start --> Stop\n", 2, 1),
    ("flowchart LR\n    Start --> Stop\n", 2, 1),
    ("flowchart LR\n    id1(This is the text in the box)\n", 1, 0),
    ("flowchart LR\n    id1([This is the text in the box])\n", 1, 0),
    ("flowchart LR\n    id1[[This is the text in the box]]\n", 1, 0),
    ("flowchart LR\n    id1[(Database)]\n", 1, 0),
    ("flowchart LR\n    id1((This is the text in the circle))\n", 1, 0),
    ("flowchart LR\n    id1>This is the text in the box]\n", 1, 0),
    ("flowchart LR\n    id1{This is the text in the box}\n", 1, 0),
    ("flowchart LR\n    id1{{This is the text in the box}}\n", 1, 0),
    ("flowchart TD\n    id1[/This is the text in the box/]\n", 1, 0),
    ("flowchart TD\n    id1[\\This is the text in the box\\]\n", 1, 0),
    ("flowchart TD\n    A[/Christmas\\]\n", 1, 0),
    ("flowchart TD\n    B[\\Go shopping/]\n", 1, 0),
    ("flowchart TD\n    id1(((This is the text in the circle)))\n", 1, 0),
    (
        "flowchart RL\n"
        '    A@{ shape: manual-file, label: "File Handling"}\n'
        '    B@{ shape: manual-input, label: "User Input"}\n'
        '    C@{ shape: docs, label: "Multiple Documents"}\n'
        '    D@{ shape: procs, label: "Process Automation"}\n'
        '    E@{ shape: paper-tape, label: "Paper Records"}\n',
        5,
        0,
    ),
    (
        "flowchart TD\n"
        '    A@{ icon: "fa:user", form: "square", label: "User Icon", pos: "t", '
        "h: 60 }\n"
        '    B@{ img: "https://example.com/x.png", label: "Image label", '
        'pos: "t", w: 60, h: 60, constraint: "off" }\n',
        2,
        0,
    ),
    ("flowchart LR\n    A-->B\n", 2, 1),
    ("flowchart LR\n    A --- B\n", 2, 1),
    ("flowchart LR\n    A-- This is the text! ---B\n", 2, 1),
    ("flowchart LR\n    A---|This is the text|B\n", 2, 1),
    ("flowchart LR\n    A-->|text|B\n", 2, 1),
    ("flowchart LR\n    A-- text -->B\n", 2, 1),
    ("flowchart LR\n   A-.->B;\n", 2, 1),
    ("flowchart LR\n   A-. text .-> B\n", 2, 1),
    ("flowchart LR\n   A ==> B\n", 2, 1),
    ("flowchart LR\n   A == text ==> B\n", 2, 1),
    ("flowchart LR\n    A ~~~ B\n", 2, 0),
    ("flowchart LR\n   A -- text --> B -- text2 --> C\n", 3, 2),
    ("flowchart LR\n   a --> b & c--> d\n", 4, 4),
    ("flowchart TB\n    A & B--> C & D\n", 4, 4),
    ("flowchart LR\n  A e1@--> B\n", 2, 1),
    ("flowchart LR\n  A e1@==> B\n  e1@{ animate: true }\n", 2, 1),
    ("flowchart LR\n  A e1@--> B\n  e1@{ animation: fast }\n", 2, 1),
    (
        "flowchart LR\n  A e1@--> B\n"
        "  classDef animate stroke-dasharray: 9\\,5,stroke-dashoffset: 900\n"
        "  class e1 animate\n",
        2,
        1,
    ),
    ("flowchart LR\n    A --o B\n", 2, 1),
    ("flowchart LR\n    A --x B\n", 2, 1),
    ("flowchart LR\n    A o--o B\n    B <--> C\n    C x--x D\n", 4, 3),
    (
        "flowchart TD\n    A[Start] --> B{Is it?}\n    B -->|Yes| C[OK]\n"
        "    C --> D[Rethink]\n    D --> B\n    B ---->|No| E[End]\n",
        5,
        5,
    ),
    ('flowchart LR\n    id1["This is the (text) in the box"]\n', 1, 0),
    (
        "    flowchart LR\n"
        '        A["A double quote:#quot;"] --> B["A dec char:#9829;"]\n',
        2,
        1,
    ),
    (
        "flowchart TB\n    c1-->a2\n    subgraph one\n    a1-->a2\n    end\n"
        "    subgraph two\n    b1-->b2\n    end\n"
        "    subgraph three\n    c1-->c2\n    end\n",
        6,
        4,
    ),
    (
        "flowchart TB\n    c1-->a2\n    subgraph ide1 [one]\n    a1-->a2\n    end\n",
        3,
        2,
    ),
    (
        "flowchart TB\n    c1-->a2\n    subgraph one\n    a1-->a2\n    end\n"
        "    subgraph two\n    b1-->b2\n    end\n"
        "    subgraph three\n    c1-->c2\n    end\n"
        "    one --> two\n    three --> two\n    two --> c2\n",
        6,
        4,
    ),
    (
        "flowchart LR\n  subgraph TOP\n    direction TB\n    subgraph B1\n"
        "        direction RL\n        i1 -->f1\n    end\n    subgraph B2\n"
        "        direction BT\n        i2 -->f2\n    end\n  end\n"
        "  A --> TOP --> B\n  B1 --> B2\n",
        6,
        2,
    ),
    (
        "flowchart LR\n    subgraph subgraph1\n        direction TB\n"
        "        top1[top] --> bottom1[bottom]\n    end\n"
        "    subgraph subgraph2\n        direction TB\n"
        "        top2[top] --> bottom2[bottom]\n    end\n"
        "    %% ^ These subgraphs are identical, except for the links to them:\n"
        "    outside --> subgraph1\n    outside ---> top2\n",
        5,
        3,
    ),
    (
        '---\nconfig:\n  htmlLabels: false\n---\nflowchart LR\nsubgraph "One"\n'
        '  a("`The **cat**\n  in the hat`") -- "edge label" --> '
        'b{{"`The **dog** in the hog`"}}\nend\nsubgraph "`**Two**`"\n'
        '  c("`The **cat**\n  in the hat`") -- "`Bold **edge label**`" --> '
        'd("The dog in the hog")\nend\n',
        4,
        2,
    ),
    (
        "flowchart LR\n    A-->B\n    B-->C\n    C-->D\n"
        '    click A callback "Tooltip for a callback"\n'
        '    click B "https://www.github.com" "This is a tooltip for a link"\n'
        '    click C call callback() "Tooltip for a callback"\n'
        '    click D href "https://www.github.com" "This is a tooltip for a link"\n',
        4,
        3,
    ),
    (
        "flowchart LR\n%% this is a comment A -- text --> B{node}\n"
        "   A -- text --> B -- text2 --> C\n",
        3,
        2,
    ),
    (
        "flowchart LR\n    id1(Start)-->id2(Stop)\n"
        "    style id1 fill:#f9f,stroke:#333,stroke-width:4px\n"
        "    style id2 fill:#bbf,stroke:#f66,stroke-width:2px,color:#fff,"
        "stroke-dasharray: 5 5\n",
        2,
        1,
    ),
    (
        "flowchart LR\n    A:::someclass --> B\n    classDef someclass fill:#f96\n",
        2,
        1,
    ),
    (
        "flowchart LR\n    A:::foo & B:::bar --> C:::foobar\n"
        "    classDef foo stroke:#f00\n    classDef bar stroke:#0f0\n"
        "    classDef foobar stroke:#00f\n",
        3,
        2,
    ),
    (
        'flowchart TD\n    B["fa:fa-twitter for peace"]\n'
        "    B-->C[fa:fa-ban forbidden]\n    B-->D(fa:fa-spinner)\n"
        "    B-->E(A fa:fa-camera-retro perhaps?)\n",
        4,
        3,
    ),
    (
        "flowchart LR\n    A[Hard edge] -->|Link text| B(Round edge)\n"
        "    B --> C{Decision}\n    C -->|One| D[Result one]\n"
        "    C -->|Two| E[Result two]\n",
        5,
        4,
    ),
    (
        "flowchart LR\n  A --> B\n  linkStyle default interpolate cardinal "
        "stroke:#ff3\n  linkStyle 0 stroke:#ff3,stroke-width:4px,color:red;\n",
        2,
        1,
    ),
]


@pytest.mark.parametrize(("text", "steps", "arrows_"), DOCUMENTATION_EXAMPLES)
def test_the_documentation_s_syntax_examples_import(text, steps, arrows_):
    page = page_of(text)
    assert (page.counts["steps"], page.counts["arrows"]) == (steps, arrows_)
    imported = import_data(page_document(page, name="Example"))
    assert len(imported.graph["nodes"]) == steps
    assert len(imported.graph["edges"]) == arrows_


def test_font_awesome_icons_are_not_part_of_a_label():
    page = page_of(DOCUMENTATION_EXAMPLES[-3][0])
    assert labels(page) == {
        "B": "for peace",
        "C": "forbidden",
        "D": "D",
        "E": "A perhaps?",
    }


# --- recognising the format --------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"flowchart LR\n  A --> B\n",
        b"\xef\xbb\xbf  graph TD;A-->B",
        b"---\ntitle: x\n---\n%% comment\n%%{init: {}}%%\nflowchart-elk TB\n",
        b"%%{\n  init: {}\n}%%\ngraph\n",
    ],
)
def test_flowcharts_are_recognised(raw):
    assert looks_like_mermaid(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"schema_version": 1}',
        b"<mxfile><diagram/></mxfile>",
        b"Id,Name,Shape Library,Text Area 1\n",
        b"flowcharts are nice\n",
        b"",
    ],
)
def test_other_files_are_not_taken_for_mermaid(raw):
    assert not looks_like_mermaid(raw)
