from django.utils.translation import gettext


class EditConflict(Exception):
    """Someone saved the same part of the draft after this form was loaded."""

    def __init__(self, *, part: str, saved_by: str, saved_at):
        self.part, self.saved_by, self.saved_at = part, saved_by, saved_at
        super().__init__(
            gettext("%(part)s was saved by %(who)s while you were editing")
            % {"part": part, "who": saved_by}
        )


class NotEditable(Exception):
    """The version is published (immutable) or otherwise closed to edits."""
