"""Helpers of the systemmaps tests: snapshots of the stored maps, a map's steps
and their pages, and reading those pages."""

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hourglass.models import Membership
from systemmaps.models import Edge, Node, Revision, SystemMap


def maps_snapshot() -> dict:
    """Every stored row of every map, to prove that a refused request wrote nothing."""
    return {
        "maps": list(
            SystemMap.objects.order_by("pk").values(
                "pk",
                "business_id",
                "name",
                "description",
                "half",
                "stages",
                "product",
                "status",
                "version",
                "lint_errors",
                "lint_warnings",
                "updated_at",
                "deleted_at",
            )
        ),
        "nodes": list(
            Node.all_objects.order_by("pk").values(
                "pk",
                "map_id",
                "client_id",
                "kind",
                "label",
                "x",
                "y",
                "stage",
                "notes",
                "deleted_at",
            )
        ),
        "edges": list(
            Edge.objects.order_by("pk").values(
                "pk", "map_id", "client_id", "source_id", "target_id", "label"
            )
        ),
        "revisions": list(
            Revision.objects.order_by("pk").values(
                "pk", "map_id", "version", "graph", "note", "created_at"
            )
        ),
    }


def step(system_map, client_id: str) -> Node:
    """The step (or any shape) of `system_map` with that id in its drawing."""
    return Node.objects.get(map=system_map, client_id=client_id)


def membership(user, business) -> Membership:
    """`user`'s membership of `business`: what owns a step."""
    return Membership.objects.get(user=user, business=business)


def step_url(node: Node, name: str = "step-detail", **kwargs) -> str:
    """The URL of a page (the step page by default) under one step of a map."""
    return reverse(
        f"systemmaps:{name}",
        kwargs={
            "slug": node.map.business.slug,
            "pk": node.map_id,
            "node": node.client_id,
            **kwargs,
        },
    )


def main_html(response) -> str:
    """The page's <main> element (the whole page if it has none)."""
    html = response.content.decode()
    match = re.search(r"<main\b.*</main>", html, re.S)
    return match.group() if match else html


def text_of(html: str) -> str:
    """The words of some markup, tags dropped and spaces squeezed; character
    references are left as written (`&#x27;`), unlike metrics' unescaped_text_of."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def import_file(client, raw: bytes, *, slug: str = "acme", name="map.json", **data):
    """Upload `raw` to the map import page and press Create on its summary with
    what the summary proposes, changed by `data` (e.g. `stages=["try"]`): what
    a user who only confirms does. A refused upload's answer comes back as is;
    `follow=True` follows the last redirect."""
    follow = data.pop("follow", False)
    page = reverse("systemmaps:map-import", kwargs={"slug": slug})
    response = client.post(page, {"file": SimpleUploadedFile(name, raw)})
    if response.status_code != 302:
        return response
    summary = client.get(response.url)
    form = summary.context["form"]
    fields = {key: form[key].value() for key in form.fields}
    fields = {key: value for key, value in {**fields, **data}.items() if value}
    return client.post(response.url, fields, follow=follow)
