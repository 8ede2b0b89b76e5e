"""Repository YAML/TOML/JSON: parse errors are problems with a line, never exceptions."""

from __future__ import annotations

from pathlib import Path

import yaml

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.yamlfile import load_json, load_toml, load_yaml


def test_kustomize_value_tag_reads_as_a_string(tmp_path: Path) -> None:
    facts = Facts(tmp_path)
    assert load_yaml(facts, "kustomization.yaml", "delimiter: =\n") == {"delimiter": "="}
    assert not facts.problems
    # PyYAML's own loader is left as it was
    assert "tag:yaml.org,2002:value" not in yaml.SafeLoader.yaml_constructors


def test_broken_files_become_problems_with_lines(tmp_path: Path) -> None:
    facts = Facts(tmp_path)
    assert load_yaml(facts, "a.yml", "a: [1,\nb: 2\n") is None
    assert load_toml(facts, "b.toml", "x = \n") is None
    assert load_json(facts, "c.json", "{") is None
    assert [(p.kind, p.path) for p in facts.problems] == [
        ("config", "a.yml"),
        ("config", "b.toml"),
        ("config", "c.json"),
    ]
    assert facts.problems[0].line is not None


def test_unsafe_tags_are_refused(tmp_path: Path) -> None:
    facts = Facts(tmp_path)
    assert load_yaml(facts, "x.yml", "!!python/object/apply:os.system ['echo hi']\n") is None
    assert facts.problems[0].kind == "config"
