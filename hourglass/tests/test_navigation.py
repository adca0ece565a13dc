from django.urls import reverse

from hourglass.context_processors import NAV_ITEMS
from hourglass.tests.utils import elements


def test_every_navigation_item_links_to_a_page_of_the_business(alice_client, acme):
    html = alice_client.get(reverse("hourglass:overview", args=[acme.slug])).content

    links = [
        attrs["href"]
        for attrs, ancestors in elements(html.decode())
        if "href" in attrs and any(a.get("class") == "mainnav" for a in ancestors)
    ]
    assert links == [reverse(name, args=[acme.slug]) for name, _label in NAV_ITEMS]
    for url in links:
        assert alice_client.get(url, follow=True).status_code == 200, url


def test_the_current_page_is_marked_in_the_navigation(alice_client, acme):
    team = reverse("hourglass:team", args=[acme.slug])

    html = alice_client.get(team).content.decode()

    assert f'<a href="{team}" aria-current="page">Team</a>' in html
