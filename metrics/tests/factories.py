import factory
from django.utils import timezone

from hourglass.tests.factories import BusinessFactory
from metrics import weeks
from metrics.models import Entry, Metric, Unit


class MetricFactory(factory.django.DjangoModelFactory):
    """A count metric of the know stage, expected since the current week."""

    class Meta:
        model = Metric

    business = factory.SubFactory(BusinessFactory)
    name = factory.Sequence(lambda n: f"Metric {n}")
    unit = Unit.COUNT
    direction = "higher"
    goal = None
    owner = None
    step = None
    stage = "know"
    in_funnel = True
    position = factory.Sequence(lambda n: n)
    first_week = factory.LazyAttribute(
        lambda o: weeks.current_week(o.business.timezone)
    )


class EntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entry

    metric = factory.SubFactory(MetricFactory)
    business = factory.LazyAttribute(lambda o: o.metric.business)
    week = factory.LazyAttribute(
        lambda o: weeks.current_week(o.metric.business.timezone)
    )
    value = 10
    entered_by = None
    entered_at = factory.LazyFunction(timezone.now)


def metric_form_data(**overrides) -> dict:
    """What the metric form posts for a count metric of the buy stage."""
    data = {
        "name": "Clients onboarded",
        "unit": "count",
        "direction": "higher",
        "goal": "3",
        "owner": "",
        "step": "",
        "stage": "buy",
        "in_funnel": "on",
        "description": "",
    }
    data.update(overrides)
    return data
