import re

from hypothesis import given, settings
from hypothesis import strategies as st

from systemmaps.builtin import get_template
from systemmaps.mermaid import escape_label, to_mermaid

# What a safe label may hold: no quote, nothing that opens markup, an entity
# other than our own codes, a directive or a markdown string, no line break.
LABEL = r'(?:[^"<>&%`|\n\r]|#(?:quot|lt|gt|amp|\d+);)*'
# A step's label may hold our own line break too, and no other tag.
STEP_LABEL = rf"{LABEL}(?:<br>{LABEL})*"
NODE_LINE = re.compile(
    rf'^    n\d+(?:\(\["{STEP_LABEL}"\]\)|\["{STEP_LABEL}"\]|\{{"{STEP_LABEL}"\}})$'
)
EDGE_LINE = re.compile(rf'^    n\d+ -->(?:\|"{LABEL}"\|)? n\d+$')
COMMENT_LINE = re.compile(rf"^%% {LABEL}$")


def two_steps(first="Start", second="Stop", arrow=None, name="Map"):
    return {
        "schema_version": 1,
        "name": name,
        "nodes": [
            {"id": "a", "kind": "terminus", "label": first, "x": 0.0, "y": 0.0},
            {"id": "b", "kind": "task", "label": second, "x": 220.0, "y": 0.0},
        ],
        "edges": [{"id": "e1", "source": "a", "target": "b", "label": arrow}],
    }


def assert_well_formed(text, nodes, edges):
    lines = text.split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert COMMENT_LINE.match(lines[0]), lines[0]
    assert lines[1] == "flowchart LR"
    assert len(lines) == 2 + nodes + edges
    for line in lines[2 : 2 + nodes]:
        assert NODE_LINE.match(line), line
    for line in lines[2 + nodes :]:
        assert EDGE_LINE.match(line), line
    assert "%%{" not in text
    assert "<" not in text.replace("<br>", "")


def test_webinar_is_a_left_to_right_flowchart_with_shapes_and_answers():
    text = to_mermaid(get_template("webinar").graph)
    assert text.startswith("%% Webinar to client\nflowchart LR\n")
    assert '    n0(["Webinar"])\n' in text
    assert '    n1["Email nurture campaign"]\n' in text
    assert '    n2{"Booked a consultation?"}\n' in text
    assert "    n1 --> n2\n" in text
    assert '    n2 -->|"yes"| n3\n' in text
    assert '    n2 -->|"no"| n7\n' in text
    assert '    n5 -->|"no"| n1\n' in text
    assert_well_formed(text, nodes=9, edges=9)


def test_output_names_nodes_n0_n1_not_by_their_ids():
    graph = two_steps()
    graph["nodes"][0]["id"] = "start-here"
    graph["edges"][0]["source"] = "start-here"
    text = to_mermaid(graph)
    assert "start-here" not in text
    assert "    n0 --> n1\n" in text


def test_label_that_closes_its_quote_adds_no_node_or_arrow():
    text = to_mermaid(two_steps(first='A"] --> evil[("x'))
    assert_well_formed(text, nodes=2, edges=1)
    assert '    n0(["A#quot;] --#gt; evil[(#quot;x"])\n' in text


def test_script_tag_in_a_label_is_not_markup():
    text = to_mermaid(two_steps(second="<script>alert(1)</script>"))
    assert "<script" not in text
    assert '    n1["#lt;script#gt;alert(1)#lt;/script#gt;"]\n' in text
    assert_well_formed(text, nodes=2, edges=1)


def test_arrow_syntax_in_labels_stays_text():
    text = to_mermaid(two_steps(first="x -->|y| z", arrow='no"| n0 --> n1 %%'))
    assert_well_formed(text, nodes=2, edges=1)
    assert '    n0(["x --#gt;#124;y#124; z"])\n' in text
    assert '    n0 -->|"no#quot;#124; n0 --#gt; n1 #37;#37;"| n1\n' in text


def test_a_label_line_break_is_a_mermaid_br_and_other_breaks_are_spaces():
    text = to_mermaid(two_steps(second="one\ntwo\r\n    n9[x]\u2028three\n\n"))
    assert_well_formed(text, nodes=2, edges=1)
    assert '    n1["one<br>two<br>n9[x] three"]\n' in text


def test_a_two_line_label_is_drawn_on_two_lines_not_glued():
    text = to_mermaid(two_steps(second="Bake and decorate\n(day before)"))
    assert '    n1["Bake and decorate<br>(day before)"]\n' in text
    # A <br> typed by the user stays text.
    text = to_mermaid(two_steps(second="a<br>b"))
    assert '    n1["a#lt;br#gt;b"]\n' in text


def test_name_with_line_breaks_and_arrows_cannot_add_lines():
    name = "Evil\nn0 --> n1\r\nclick n0 call alert(1)\n%%{init: {'theme': 'dark'}}%%"
    text = to_mermaid(two_steps(name=name))
    assert_well_formed(text, nodes=2, edges=1)
    assert text.split("\n")[0] == (
        "%% Evil n0 --#gt; n1 click n0 call alert(1) #37;#37;{init: {'theme': "
        "'dark'}}#37;#37;"
    )


def test_directive_in_a_label_is_not_a_directive():
    text = to_mermaid(two_steps(first="%%{init: {'securityLevel': 'loose'}}%%"))
    assert "%%{" not in text
    assert_well_formed(text, nodes=2, edges=1)


def test_escape_label_writes_entity_codes_in_one_pass():
    assert escape_label('a "b" <c> & #d `e`') == (
        "a #quot;b#quot; #lt;c#gt; #amp; #35;d #96;e#96;"
    )
    assert escape_label("#quot;") == "#35;quot;"
    assert escape_label(None) == ""


def test_letters_of_any_language_are_kept():
    text = to_mermaid(two_steps(first="Café à Kraków", second="웨비나"))
    assert '    n0(["Café à Kraków"])\n' in text
    assert '    n1["웨비나"]\n' in text


def test_empty_label_keeps_the_shape_and_an_empty_name_gets_a_title():
    text = to_mermaid(two_steps(first="", name=""))
    assert text.startswith("%% System map\n")
    assert '    n0([" "])\n' in text


text_strategy = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)


@settings(deadline=None)
@given(
    name=text_strategy,
    labels=st.lists(text_strategy, min_size=1, max_size=6),
    kinds=st.lists(st.sampled_from(["terminus", "task", "decision"]), min_size=6),
    arrow_labels=st.lists(st.one_of(st.none(), text_strategy), max_size=6),
)
def test_any_labels_give_one_line_per_node_and_arrow(name, labels, kinds, arrow_labels):
    nodes = [
        {"id": f"id{i}", "kind": kinds[i], "label": label, "x": 0.0, "y": 0.0}
        for i, label in enumerate(labels)
    ]
    edges = [
        {
            "id": f"e{i}",
            "source": f"id{i % len(nodes)}",
            "target": f"id{(i + 1) % len(nodes)}",
            "label": label,
        }
        for i, label in enumerate(arrow_labels)
    ]
    graph = {"schema_version": 1, "name": name, "nodes": nodes, "edges": edges}
    assert_well_formed(to_mermaid(graph), nodes=len(nodes), edges=len(edges))


# -- Step details: owner initials, critical marker, automation -----------------


def test_details_follow_the_label_of_tasks_and_decisions_in_brackets():
    graph = get_template("webinar").graph
    ids = {node["label"]: node["id"] for node in graph["nodes"]}
    details = {
        ids["Consultation call"]: {
            "initials": "BB",
            "critical": True,
            "automation": "could",
        },
        ids["Signed?"]: {"initials": "AA", "critical": False, "automation": "manual"},
    }

    text = to_mermaid(graph, details)

    badges = "BB · ★\u00a0Critical · ⚡\u00a0Could be automated"
    assert f'    n3["Consultation call ({badges})"]\n' in text
    assert '    n5{"Signed? (AA)"}\n' in text
    assert '    n1["Email nurture campaign"]\n' in text
    assert_well_formed(text, nodes=9, edges=9)


def test_details_of_a_terminus_are_not_shown():
    graph = two_steps()
    details = {"a": {"initials": "AA", "critical": True, "automation": "automated"}}

    assert to_mermaid(graph, details) == to_mermaid(graph)


def test_an_unlabelled_step_shows_its_details_alone():
    graph = two_steps(second="")

    text = to_mermaid(graph, {"b": {"initials": "AA"}})

    assert '    n1["(AA)"]\n' in text


def test_owner_initials_with_markup_or_syntax_stay_text():
    initials = '<b>"]\n  n9 --> n0 %%{init}%% `x` | &amp; #'
    graph = two_steps()

    text = to_mermaid(graph, {"b": {"initials": initials, "critical": True}})

    assert_well_formed(text, nodes=2, edges=1)
    assert (
        "(#lt;b#gt;#quot;]   n9 --#gt; n0 #37;#37;{init}#37;#37; #96;x#96; #124; "
        "#amp;amp; #35; · ★\u00a0Critical)"
    ) in text
