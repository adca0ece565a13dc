"""The app's URLs plus one trivial business page, the floor of the view benches:
the same middleware, login and membership lookup, and a response of two bytes."""

from django.http import HttpResponse
from django.urls import path

from hourglass.access import business_view
from hourglass.urls import urlpatterns as app_patterns


@business_view()
def trivial(request):
    return HttpResponse("ok")


urlpatterns = [path("b/<slug:slug>/trivial/", trivial, name="bench-trivial")]
urlpatterns += app_patterns
