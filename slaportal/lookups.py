"""`field__any_of=[…]`: membership in a long list of values, bound as one parameter.

A batch of 10,000 lead ids written as `IN (%s, %s, …)` costs the client more to bind and the
server more to parse and plan than the statement costs to run. On PostgreSQL the list goes as
one array (`= ANY(%s)`); elsewhere it stays an IN list. Registered on every field from
SlaPortalConfig.ready().
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [self.lhs.output_field.get_prep_value(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, values)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*lhs_params, *values)


def lookups_register() -> None:
    Field.register_lookup(AnyOf)
    # Relations keep lookups of their own: `lead_id__any_of` needs it there too.
    ForeignObject.register_lookup(AnyOf)
