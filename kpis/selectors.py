"""Reads the review shares: which agreement and version a month is judged by."""

from agreements.selectors import version_in_force, workspace_agreement


def review_version(at=None):
    agreement = workspace_agreement()
    return version_in_force(agreement=agreement, at=at) if agreement else None
