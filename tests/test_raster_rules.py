"""Rules that turn raster statistics into suggested restriction causes (pure, and the file)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.domain import vocab
from app.domain.raster_rules import (
    DEFAULT_RULES,
    RasterRule,
    RasterRulesError,
    RasterStats,
    parse_rules,
    suggest_causes,
)
from app.services.raster import RasterUnavailable, configured_rules
from app.settings import Settings

RULE = """
[[rule]]
statistic = "{statistic}"
operator = "{operator}"
threshold = {threshold}
cause = "{cause}"
"""


def _rule(statistic: str = "slope_max_pct", operator: str = ">=", threshold: str = "15",
          cause: str = "sonstige") -> str:
    return RULE.format(statistic=statistic, operator=operator, threshold=threshold,
                       cause=cause)


def test_default_rules_use_known_causes_and_say_why() -> None:
    assert {rule.cause for rule in DEFAULT_RULES} <= set(vocab.RESTRICTION_CAUSE.codes)
    assert [str(rule) for rule in DEFAULT_RULES] == [
        "flood_hazard_share > 0.1 → hochwasser", "slope_mean_pct > 5 → sonstige"]


@pytest.mark.parametrize(("stats", "expected"), [
    (RasterStats(slope_mean_pct=5.0, slope_max_pct=30.0, flood_hazard_share=0.10), ()),
    (RasterStats(slope_mean_pct=5.01, slope_max_pct=6.0, flood_hazard_share=0.0), ("sonstige",)),
    (RasterStats(slope_mean_pct=0.5, slope_max_pct=1.0, flood_hazard_share=0.1001),
     ("hochwasser",)),
    (RasterStats(slope_mean_pct=9.0, slope_max_pct=12.0, flood_hazard_share=1.0),
     ("hochwasser", "sonstige")),
    (RasterStats(), ()),  # nothing measured (no raster, or outside it): nothing suggested
])
def test_default_rules_suggest_above_the_thresholds_only(stats: RasterStats,
                                                         expected: tuple[str, ...]) -> None:
    assert suggest_causes(stats, DEFAULT_RULES) == expected


def test_a_cause_is_suggested_once_in_vocabulary_order() -> None:
    rules = (RasterRule("slope_max_pct", ">=", 10, "sonstige"),
             RasterRule("slope_mean_pct", ">", 2, "sonstige"),
             RasterRule("flood_hazard_share", ">=", 0.0, "hochwasser"),
             RasterRule("slope_mean_pct", "<", 1, "altlasten"))
    assert suggest_causes(RasterStats(3.0, 10.0, 0.0), rules) == ("hochwasser", "sonstige")
    assert suggest_causes(RasterStats(0.5, 1.0, None), rules) == ("altlasten",)


def test_a_rules_file_replaces_the_built_in_rules() -> None:
    rules = parse_rules(_rule() + _rule("flood_hazard_share", ">", "0.25", "hochwasser"))
    assert rules == (RasterRule("slope_max_pct", ">=", 15, "sonstige"),
                     RasterRule("flood_hazard_share", ">", 0.25, "hochwasser"))
    assert suggest_causes(RasterStats(1.0, 15.0, 0.2), rules) == ("sonstige",)


@pytest.mark.parametrize(("document", "message"), [
    (_rule(cause="dammbruch"), "regeln.toml, Regel 1: unbekannte Ursache 'dammbruch'"),
    (_rule() + _rule(statistic="hangneigung"),
     "regeln.toml, Regel 2: unbekannte Kennzahl 'hangneigung'"),
    (_rule(operator="=="), "regeln.toml, Regel 1: unbekannter Vergleich '=='"),
    (_rule(threshold='"viel"'), "regeln.toml, Regel 1: Schwellenwert 'viel' ist keine"),
    (_rule(threshold="nan"), "regeln.toml, Regel 1: Schwellenwert nan ist keine"),
    (_rule("flood_hazard_share", ">", "10", "hochwasser"),
     "regeln.toml, Regel 1: Schwellenwert 10 für flood_hazard_share liegt nicht in 0..1"),
    (_rule().replace('cause = "sonstige"', ""), "regeln.toml, Regel 1: es fehlt cause"),
    (_rule() + 'ursache = "x"\n', "regeln.toml, Regel 1: unbekannte Angabe(n) ursache"),
    ('[[regel]]\nstatistic = "slope_max_pct"\n', "regeln.toml: unbekannte Angabe(n) regel"),
    ("rule = 3\n", "regeln.toml: 'rule' muss eine Liste"),
    ("[[rule]\n", "regeln.toml: kein gültiges TOML"),
])
def test_a_wrong_rules_file_is_refused_naming_the_rule_and_key(document: str,
                                                               message: str) -> None:
    with pytest.raises(RasterRulesError) as caught:
        parse_rules(document, "regeln.toml")
    assert str(caught.value).startswith(message)


def test_the_configured_file_is_read_and_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "regeln.toml"
    settings = Settings(raster_rules_file=path)
    path.write_text(_rule(), encoding="utf-8")
    assert configured_rules(settings) == (RasterRule("slope_max_pct", ">=", 15, "sonstige"),)
    path.write_text(_rule(threshold="20"), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert configured_rules(settings)[0].threshold == 20
    assert configured_rules(Settings(raster_rules_file="")) == DEFAULT_RULES


def test_a_broken_or_missing_configured_file_is_a_service_problem(tmp_path: Path) -> None:
    path = tmp_path / "regeln.toml"
    path.write_text(_rule(cause="dammbruch"), encoding="utf-8")
    with pytest.raises(RasterUnavailable) as caught:
        configured_rules(Settings(raster_rules_file=path))
    assert caught.value.status == 503
    assert "unbekannte Ursache 'dammbruch'" in caught.value.detail
    with pytest.raises(RasterUnavailable, match="nicht lesbar"):
        configured_rules(Settings(raster_rules_file=tmp_path / "fehlt.toml"))
