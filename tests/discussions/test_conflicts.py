"""Two managers save the same part: the second sees both edits and chooses; nothing is lost.

The first test reproduces the bug of issue 14: the second save, made again after the old
"conflict" banner, silently reverted the other manager's KPI target.
"""

import html
import re

import pytest
from django.urls import reverse

from agreements import merge, services
from agreements import models as m
from agreements.parts import PARTS_BY_SLUG

pytestmark = pytest.mark.django_db
KPIS = PARTS_BY_SLUG["kpis"]


@pytest.fixture
def kpi(draft, sales_manager):
    m.Kpi.objects.create(
        version=draft,
        metric="sla_compliance",
        target=90,
        direction="higher",
        owner="sales",
        amber_threshold=80,
        red_threshold=70,
    )
    return m.Kpi.objects.get(version=draft)


def opened(client, url) -> dict:
    """What the browser posts when the page is saved untouched: its fields and hidden base."""
    page = client.get(url).content.decode()
    base = html.unescape(re.search(r'name="base" value="([^"]*)"', page).group(1))
    revision = re.search(r'name="revision" value="(\d+)"', page).group(1)
    return {"base": base, "revision": revision}


def editor_post(draft, opened_with: dict, **changes):
    data = merge.values_post(
        merge.part_values(part=KPIS, version=draft),
        revision=int(opened_with["revision"]),
        base=None,
    )
    data["base"] = opened_with["base"]
    for key, value in changes.items():
        data[key.replace("__", "-")] = value
    return data


def chooser(page: str) -> dict:
    fields = dict(re.findall(r'name="(mine|theirs|revision|resolve)" value="([^"]*)"', page))
    return {k: html.unescape(v) for k, v in fields.items()}


def test_a_second_save_never_reverts_the_first_managers_kpi_edit(
    agreement, draft, kpi, sales_manager, marketing_manager, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "kpis"])
    sergio, marina = client_for(sales_manager), client_for(marketing_manager)
    sergio_opened, marina_opened = opened(sergio, url), opened(marina, url)
    marina_post = editor_post(draft, marina_opened, kpi__0__amber_threshold="85")

    saved = sergio.post(url, editor_post(draft, sergio_opened, kpi__0__target="95"))
    assert saved.status_code == 302

    stale = marina.post(url, marina_post)
    page = stale.content.decode()
    assert stale.status_code == 200 and "Not saved: Sergio" in page
    kpi.refresh_from_db()
    assert (kpi.target, kpi.amber_threshold) == (95, 80), "nothing is saved before choosing"
    assert "conflict-form" in page

    # Saving the chooser as shown keeps Sergio's target and Marina's amber.
    form = chooser(page)
    choices = dict(re.findall(r'name="([sre]:[^"]+)"[^>]*value="(mine|theirs)" checked', page))
    resolved = marina.post(url, {**form, **choices})
    assert resolved.status_code == 302
    kpi.refresh_from_db()
    assert (kpi.target, kpi.amber_threshold) == (95, 85)
    draft.refresh_from_db()
    assert draft.revision_of("kpis") == 2


def test_a_field_both_changed_waits_for_a_choice_and_stores_nothing_without_it(
    agreement, draft, kpi, sales_manager, marketing_manager, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "kpis"])
    sergio, marina = client_for(sales_manager), client_for(marketing_manager)
    sergio_opened, marina_opened = opened(sergio, url), opened(marina, url)
    marina_post = editor_post(draft, marina_opened, kpi__0__target="92")
    sergio.post(url, editor_post(draft, sergio_opened, kpi__0__target="95"))

    page = marina.post(url, marina_post).content.decode()
    assert "both changed" in page
    key = f"r:kpi:{kpi.pk}:target"
    assert f'name="{key}"' in page
    assert not re.search(rf'name="{re.escape(key)}"[^>]*checked', page)

    refused = marina.post(url, chooser(page))
    assert refused.status_code == 400
    kpi.refresh_from_db()
    assert kpi.target == 95
    assert "choose a side" in refused.content.decode()

    chosen = marina.post(url, {**chooser(page), key: "mine"})
    assert chosen.status_code == 302
    kpi.refresh_from_db()
    assert kpi.target == 92


def test_a_row_added_meanwhile_is_kept_and_a_row_removed_meanwhile_stays_removed(
    agreement, draft, kpi, sales_manager, marketing_manager, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "kpis"])
    sergio, marina = client_for(sales_manager), client_for(marketing_manager)
    sergio_opened, marina_opened = opened(sergio, url), opened(marina, url)
    marina_post = editor_post(draft, marina_opened, meeting__business_day="5")
    sergio_post = editor_post(draft, sergio_opened, kpi__0__DELETE="on")
    sergio_post.update(
        {
            "kpi-TOTAL_FORMS": "2",
            "kpi-1-metric": "mql_acceptance_rate",
            "kpi-1-target": "60",
            "kpi-1-direction": "higher",
            "kpi-1-owner": "sales",
            "kpi-1-amber_threshold": "50",
            "kpi-1-red_threshold": "40",
            "kpi-1-review_frequency": "monthly",
        }
    )
    assert sergio.post(url, sergio_post).status_code == 302

    page = marina.post(url, marina_post).content.decode()
    choices = dict(re.findall(r'name="([sre]:[^"]+)"[^>]*value="(mine|theirs)" checked', page))
    assert marina.post(url, {**chooser(page), **choices}).status_code == 302
    assert list(m.Kpi.objects.filter(version=draft).values_list("metric", flat=True)) == [
        "mql_acceptance_rate"
    ]
    assert m.ReviewSchedule.objects.get(version=draft).business_day == 5


def test_a_damaged_comparison_is_refused_and_nothing_is_stored(
    agreement, draft, kpi, marketing_manager, client_for
):
    url = reverse("agreements:part_edit", args=[agreement.pk, draft.pk, "kpis"])
    response = client_for(marketing_manager).post(
        url, {"resolve": "1", "revision": "0", "mine": "forged", "theirs": "forged"}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.revision_of("kpis") == 0


def test_the_merge_core_defaults_to_the_side_that_changed():
    base = {"settings": {"a": ["1"], "b": ["1"], "c": ["1"]}, "rows": {}, "deleted": {}}
    mine = {"settings": {"a": ["2"], "b": ["1"], "c": ["3"]}, "rows": {}, "deleted": {}}
    theirs = {"settings": {"a": ["1"], "b": ["5"], "c": ["4"]}, "rows": {}, "deleted": {}}
    found = {d.key: d.default for d in merge.differences(base, mine, theirs)}
    assert found == {"a": "mine", "b": "theirs", "c": ""}
    with pytest.raises(merge.ChoiceMissing):
        merge.merged_values(mine, theirs, {}, merge.differences(base, mine, theirs))
    merged = merge.merged_values(
        mine,
        theirs,
        {"s:a": "mine", "s:b": "theirs", "s:c": "theirs"},
        merge.differences(base, mine, theirs),
    )
    assert merged["settings"] == {"a": ["2"], "b": ["5"], "c": ["4"]}


def test_services_still_refuse_a_stale_revision(draft, kpi, sales_manager):
    from agreements.exceptions import EditConflict

    with pytest.raises(EditConflict):
        services.part_save(
            version=draft,
            part=KPIS,
            settings_forms=[],
            formsets=[],
            expected_revision=3,
            by=sales_manager,
        )
