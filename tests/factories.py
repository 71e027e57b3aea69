"""factory_boy factories. Agreements are built through agreements.services, like the product."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from slaportal.roles import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            # get_or_create: transactional tests flush the groups the migration made.
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])
            self.save()


def user_with_role(role: str, username: str | None = None):
    kwargs = {"role": role}
    if username:
        kwargs["username"] = username
    return UserFactory(**kwargs)


__all__ = ["Role", "UserFactory", "user_with_role"]
