import factory

from hourglass.models import Business, Invitation, Membership, Role, Tactic, User
from hourglass.tests.utils import PASSWORD


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password(PASSWORD)


class BusinessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Business

    name = factory.Sequence(lambda n: f"Business {n}")
    slug = factory.Sequence(lambda n: f"business-{n}")
    currency = "EUR"
    timezone = "Europe/Paris"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    business = factory.SubFactory(BusinessFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    business = factory.SubFactory(BusinessFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.MEMBER


class TacticFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tactic

    business = factory.SubFactory(BusinessFactory)
    stage = "know"
    name = factory.Sequence(lambda n: f"Tactic {n}")
    pep = "paid"
