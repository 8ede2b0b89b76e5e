"""Cases for TEAM rules: owners, review templates, platform, backlog, docs, decisions, objective."""

from dataclasses import replace

from rulecases import Case

CODE = {"src": {"train.py": "x = 1\n", "features.py": "y = 2\n"}}

CASES = [
    # TEAM001 code owners
    Case("TEAM001", "passed", {**CODE, ".github": {"CODEOWNERS": "# owners\n* @acme/ml\n"}}),
    Case("TEAM001", "partial", {**CODE, "CODEOWNERS": "/src/train.py @alice\n"}, id="part-owned"),
    Case(
        "TEAM001",
        "partial",
        {**CODE, "CODEOWNERS": "* @acme/ml\n/src/features.py\n"},
        id="explicitly-unowned",
    ),
    Case("TEAM001", "failed", {**CODE, "CODEOWNERS": "# nobody yet\n"}, id="no-owner"),
    Case("TEAM001", "failed", CODE),
    Case("TEAM001", "passed", {**CODE, "OWNERS": "approvers:\n  - alice\n"}, id="prow"),
    Case(
        "TEAM001",
        "partial",
        {**CODE, "src": {**CODE["src"], "x": {"OWNERS": "reviewers: [bob]\n", "y.py": "z = 1\n"}}},
        id="prow-subdir",
    ),
    Case("TEAM001", "failed", {**CODE, "OWNERS": "just a list of names\n"}, id="not-prow"),
    # TEAM002 pull request template
    Case(
        "TEAM002",
        "passed",
        {".github": {"pull_request_template.md": "## What changes in the model?\n"}},
    ),
    Case(
        "TEAM002",
        "passed",
        {".gitlab": {"merge_request_templates": {"default.md": "## Summary\n"}}},
        id="gitlab",
    ),
    Case("TEAM002", "failed", {".github": {"ISSUE_TEMPLATE": {"bug.md": "# Bug\n"}}}),
    # TEAM003 collaborative platform
    Case("TEAM003", "passed", {".github": {"workflows": {"ci.yml": "on: push\njobs: {}\n"}}}),
    Case(
        "TEAM003",
        "passed",
        {
            "pyproject.toml": '[project]\nname = "x"\n[project.urls]\nSource = "https://gitlab.com/acme/x"\n'
        },
        id="project-url",
    ),
    Case("TEAM003", "failed", {"train.py": "x = 1\n"}, git=True, id="no-remote"),
    Case("TEAM003", "unknown", {"train.py": "x = 1\n"}, id="exported-copy"),
    # TEAM004 shared backlog
    Case("TEAM004", "passed", {".github": {"ISSUE_TEMPLATE": {"bug.yml": "name: Bug\n"}}}),
    Case(
        "TEAM004",
        "passed",
        {
            "pyproject.toml": '[project]\nname = "x"\n[project.urls]\n"Bug Tracker" = "https://example.com/x"\n'
        },
        id="project-url",
    ),
    Case(
        "TEAM004",
        "passed",
        {
            "README.md": "# x\nPlanning: https://acme.atlassian.net/jira/software/projects/ML/boards/1\n"
        },
        id="jira-link",
    ),
    Case("TEAM004", "failed", {"README.md": "# x\n"}, git=True),
    Case(
        "TEAM004",
        "unknown",
        {"README.md": "# x\n", ".github": {"dependabot.yml": "version: 2\n"}},
        id="hosted",
    ),
    # TEAM005 contribution docs
    Case(
        "TEAM005",
        "passed",
        {"CONTRIBUTING.md": "# Contributing\n", "CHANGELOG.md": "# Changelog\n"},
    ),
    Case(
        "TEAM005",
        "passed",
        {"CONTRIBUTING.md": "# Contributing\n", "api": {"openapi.yaml": "openapi: 3.0.0\n"}},
        id="contract",
    ),
    Case("TEAM005", "partial", {"docs": {"CONTRIBUTING.md": "# Contributing\n"}}, id="guide-only"),
    Case("TEAM005", "failed", {"README.md": "# x\n", "src": {"CHANGELOG.md": "not top level\n"}}),
    Case(
        "TEAM005",
        "partial",
        {"CONTRIBUTING.md": "# C\n", "svc": {"openapi.py": "x = 1\n"}},
        id="openapi-module",
    ),
    # TEAM006 decision records
    Case(
        "TEAM006",
        "passed",
        {"docs": {"adr": {"0001-use-dvc.md": "# Use DVC\n", "README.md": "index\n"}}},
    ),
    Case(
        "TEAM006",
        "passed",
        {"doc": {"architecture": {"decisions": {"0002-gbm.md": "# GBM\n"}}}},
        id="adr-tools-layout",
    ),
    Case("TEAM006", "partial", {"docs": {"design.md": "# Design\n"}}, id="design-doc"),
    Case("TEAM006", "failed", {"docs": {"index.md": "# Docs\n"}}),
    # TEAM007 training objective
    Case(
        "TEAM007",
        "passed",
        {"README.md": "# churn\n\n## Objective\nPredict churn in 30 days at 90% precision.\n"},
    ),
    Case(
        "TEAM007",
        "passed",
        {"README.md": "Churn\n=====\n\nProblem statement\n-----------------\nWho leaves?\n"},
        id="setext",
    ),
    Case(
        "TEAM007",
        "partial",
        {"README.md": "# churn\n\n## Results\n| model | f1 |\n"},
        id="results-only",
    ),
    Case(
        "TEAM007",
        "partial",
        {"README.md": "# churn\nReaches 0.91 accuracy.\n"},
        id="metric-mention",
    ),
    Case("TEAM007", "failed", {"README.md": "# churn\n## Install\npip install .\n"}),
    Case(
        "TEAM007",
        "failed",
        {"README.md": "# x\n__- To install x from source for development purposes, run:__\n"},
        id="long-heading",
    ),
    Case(
        "TEAM007",
        "failed",
        {"README.md": "# x\n", "docs": {"adr": {"0001-x.md": "# X\n## Motivation\nspeed\n"}}},
        id="adr-motivation",
    ),
    Case(
        "TEAM007",
        "failed",
        {"README.md": "# churn\n```\n## Objective in a code block\n```\n"},
        id="heading-in-code-block",
    ),
]

# TEAM007 concerns a model's repository: its fixtures say so outright.
CASES = [
    replace(c, context={"model": True, **c.context})
    if c.code == "TEAM007" and "model" not in c.context
    else c
    for c in CASES
]
CASES += [
    Case(
        "TEAM007",
        "not_applicable",
        {"README.md": "# A parser\n", "p.py": "import re\n"},
        id="no-model-in-repo",
    ),
]
