"""`steward models card NAME VERSION [-o DIR]` as a user runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsteward.cli import main


@pytest.fixture
def churn(project_dir: Path) -> Path:
    """A project whose registry holds churn v1 at production."""
    from mlsteward.project import Project
    from mlsteward.store.database import open_store
    from records_builder import move_alias, register_version

    with open_store(Project.open(project_dir)).write() as conn:
        register_version(conn, "churn", 1, description="<b>first</b>")
        move_alias(conn, "churn", "production", 1, reason="ship it")
    return project_dir


def test_card_writes_markdown_and_html(churn: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "card", "churn", "production"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        str(churn / "model-cards" / "churn-v1.md"),
        str(churn / "model-cards" / "churn-v1.html"),
    ]
    assert (churn / "model-cards" / "churn-v1.md").read_text().startswith("# Model card: churn v1")
    html = (churn / "model-cards" / "churn-v1.html").read_text()
    assert "&lt;b&gt;first&lt;/b&gt;" in html
    assert "<b>first" not in html
    assert main(["models", "card", "churn", "1", "-o", "docs/cards"]) == 0
    assert (churn / "docs" / "cards" / "churn-v1.html").is_file()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["nope", "1"], "model-not-found"),
        (["churn", "9"], "version-not-found"),
        (["churn", "staging"], "alias-not-found"),
        (["churn", "1", "-o", "/"], "path-outside"),
    ],
)
def test_bad_input_is_one_line_with_a_code(
    churn: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: str
) -> None:
    assert main(["models", "card", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert f"[{code}]" in err
    assert "hint: " in err
    assert "Traceback" not in err
    assert not (churn / "model-cards").exists()
