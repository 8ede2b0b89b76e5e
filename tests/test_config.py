"""Settings from [tool.steward] or steward.toml: defaults, validation, precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsteward.config import load_settings, parse_settings
from mlsteward.errors import ConfigError, StewardError


def test_defaults_when_nothing_is_configured(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.profile == "production"
    assert settings.source is None
    assert settings.audit.ignore == {}


def test_pyproject_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.steward]\nprofile = "poc"\n[tool.steward.context]\npersonal-data = true\n'
        '[tool.steward.audit]\nignore = { SML011 = "defaults are fine here" }\nfail-on = "high"\n'
    )
    s = load_settings(tmp_path)
    assert (s.profile, s.source) == ("poc", "pyproject.toml")
    assert s.context.personal_data is True
    assert s.audit.ignore == {"SML011": "defaults are fine here"}
    assert s.audit.fail_on == "high"


def test_steward_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.steward]\nprofile = "poc"\n')
    (tmp_path / "steward.toml").write_text('profile = "production"\n')
    s = load_settings(tmp_path)
    assert (s.profile, s.source) == ("production", "steward.toml")


def test_unknown_tables_are_kept_for_their_owners() -> None:
    s = parse_settings({"gates": {"production": {"metrics": {"accuracy": ">= 0.8"}}}})
    assert s.extra["gates"]["production"]["metrics"]["accuracy"] == ">= 0.8"


@pytest.mark.parametrize(
    ("table", "code", "fragment"),
    [
        ({"profile": "prod"}, "config-value", "profile must be one of"),
        ({"audit": {"ignore": {"SML011": ""}}}, "config-ignore-reason", "needs a reason"),
        ({"audit": {"ignore": ["SML011"]}}, "config-type", "must be a table"),
        ({"audit": {"fail-under": "high"}}, "config-type", "must be a number"),
        ({"audit": {"fail-under": True}}, "config-type", "must be a number"),
        ({"audit": {"fail-on": "critical"}}, "config-value", "fail-on must be one of"),
        ({"audit": {"failunder": 3}}, "config-unknown-key", "unknown key(s) failunder"),
        ({"context": {"deployed": "yes"}}, "config-type", "true or false"),
        ({"context": {"cloud": True}}, "config-unknown-key", "cloud"),
        (
            {"audit": {"per-path-ignores": {"nb/*": {"SML014": 3}}}},
            "config-ignore-reason",
            "reason",
        ),
        ({"declare": {"seml-45": 3}}, "config-type", "declare.seml-45"),
    ],
)
def test_bad_values_say_what_was_expected(
    table: dict[str, object], code: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(table)
    assert info.value.code == code
    assert fragment in info.value.message
    assert info.value.hint
    assert isinstance(info.value, StewardError)
    assert info.value.exit_code == 2


def test_broken_steward_toml_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "steward.toml").write_text("profile = \n")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert info.value.code == "config-toml"


def test_declarations_accept_a_path_or_a_table() -> None:
    s = parse_settings(
        {
            "declare": {
                "seml-45": "docs/audit.pdf",
                "seml-39": {"evidence": "AI.md", "note": "values"},
            }
        }
    )
    assert [(d.practice, d.evidence, d.note) for d in s.declare] == [
        ("seml-45", "docs/audit.pdf", ""),
        ("seml-39", "AI.md", "values"),
    ]
