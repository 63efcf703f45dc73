"""The statutory intake fields' vocabularies match the schema's (issue 11 §3, §5)."""

from db import models
from services.rules import intake_extras


def test_the_rules_know_the_schemas_sources_and_major_causes() -> None:
    assert intake_extras.SOURCES == models.SOURCES
    assert intake_extras.MAJOR_CAUSES == models.MAJOR_CAUSES


def test_the_other_channel_is_jrt_0169s_other_channel_for_a_bank() -> None:
    from services.rules import jrt
    from services.rules.packs import load_policy

    assert jrt.suggest(load_policy("bank").jrt, "other", "deposit", [])["channel"] == "A5"  # issue 11 §6, §7
