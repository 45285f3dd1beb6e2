"""factory_boy factories. Accounts are made through the same service the app uses."""

from __future__ import annotations

from typing import Any

import factory

from csas.accounts.models import Role, User
from csas.accounts.services import user_create
from csas.strategy.models import City, Department, Partner

PASSWORD = "correct horse battery staple 42"


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = City
        django_get_or_create = ("slug",)

    slug = "tacoma"
    name = "Tacoma"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("city", "slug")

    city = factory.SubFactory(CityFactory)
    slug = factory.Sequence(lambda n: f"department-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner
        django_get_or_create = ("city", "slug")

    city = factory.SubFactory(CityFactory)
    slug = factory.Sequence(lambda n: f"partner-{n}")
    organisation = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class UserFactory(factory.django.DjangoModelFactory):
    """An account of `role`; department editors and partners get their organisation."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user-{n}")
    role = Role.PUBLIC
    password = PASSWORD
    department = factory.Maybe(
        factory.LazyAttribute(lambda o: o.role == Role.DEPARTMENT_EDITOR),
        yes_declaration=factory.SubFactory(DepartmentFactory, slug="tpd"),
        no_declaration=None,
    )
    partner = factory.Maybe(
        factory.LazyAttribute(lambda o: o.role == Role.PARTNER),
        yes_declaration=factory.SubFactory(PartnerFactory, slug="tacoma-ceasefire"),
        no_declaration=None,
    )

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return user_create(**kwargs)
