"""TEAM: how the team works together - owners, review templates, platform, backlog, records.

The team practices of the SE-ML catalog (35 collaborative platform, 36 shared backlog,
37 communication, 38 decisions through a defined process), the review side of 15 (peer
review of training scripts) and ML Test Score Model 1 (model specs reviewed), and 9 (a
shared, written training objective). What the repository shows is the scaffolding of
these practices (a CODEOWNERS file, templates, decision records); whether the team
follows them lives on the hosting platform.
"""

from __future__ import annotations

import re

from mlsteward.audit.facts import Facts
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule
from mlsteward.audit.rules.gov import doc_evidence

_HOSTS = re.compile(r"github\.com|gitlab\.|bitbucket\.org|dev\.azure\.com|visualstudio\.com")
_PLATFORM_DIRS = {".github": "GitHub", ".gitlab": "GitLab", ".azuredevops": "Azure DevOps"}


@rule(
    code="TEAM001",
    name="no-codeowners",
    title="Code owners are assigned",
    severity="low",
    practices=("seml-15", "seml-12"),
)
def no_codeowners(facts: Facts) -> Outcome:
    """## What it finds
    A CODEOWNERS file (root, `.github/`, `docs/`, `.gitlab/`), or Kubernetes-style
    `OWNERS` files with approvers (Prow), and how much of the Python code and notebooks
    they give an owner. Part of the code owned is a partial verdict, scored by the share
    owned.

    ## Why it matters
    SE-ML practice 15 (peer review training scripts): with code owners, the platform asks
    the right reviewer for every change to training and feature code; practice 12 asks
    for an owner for each feature. Owners also make "who decides" explicit.

    ## Example
    A team of six where any two people can merge changes to the training pipeline.

    ## Instead
    ```text
    # .github/CODEOWNERS
    *                  @acme/ml-platform
    /src/features/     @acme/feature-owners
    /src/training/     @alice @bob
    ```
    """
    docs = facts.docs
    code = [m.path for m in facts.python.modules if not m.is_test]
    if docs.codeowners_path is None:
        return _prow_owners(facts, code)
    rules = [r for r in docs.codeowners if r.owners]
    path = docs.codeowners_path
    if not rules:
        return Outcome.failed(Hit("CODEOWNERS names no owner", path, 1))
    owned = [p for p in code if docs.owners_of(p)]
    text = f"{path}: {len(rules)} ownership rule(s)"
    dotted = [r for r in rules if r.pattern.startswith("./")]
    hint = f"; patterns starting with './' (line {dotted[0].line}) match no path" if dotted else ""
    evidence = Evidence(text, Strength.PRESENT, path, rules[0].line)
    return _coverage(code, owned, evidence, path, hint)


def _coverage(
    code: list[str], owned: list[str], evidence: Evidence, path: str, hint: str = ""
) -> Outcome:
    if not code or len(owned) == len(code):
        return Outcome.passed(evidence)
    unowned = [p for p in code if p not in set(owned)]
    message = f"{len(unowned)} of {len(code)} code files have no owner, e.g. {unowned[0]}{hint}"
    return Outcome.partial(len(owned) / len(code), Hit(message, path, 1), evidence=[evidence])


def _prow_owners(facts: Facts, code: list[str]) -> Outcome:
    """Kubernetes-style OWNERS files (Prow): approvers and reviewers per directory."""
    owners = [
        p
        for p in facts.files.named("OWNERS")
        if re.search(r"^\s*(approvers|reviewers)\s*:", facts.files.read_text(p) or "", re.M)
    ]
    if not owners:
        return Outcome.failed(
            Hit("no CODEOWNERS file: changes have no assigned reviewer", facts.files.anchor())
        )
    dirs = {p.rsplit("/", 1)[0] if "/" in p else "" for p in owners}

    def owned(path: str) -> bool:
        parts = path.split("/")[:-1]
        return "" in dirs or any("/".join(parts[: i + 1]) in dirs for i in range(len(parts)))

    first = sorted(owners, key=lambda p: (p.count("/"), p))[0]
    text = f"{len(owners)} OWNERS file(s) assign approvers and reviewers (Prow)"
    return _coverage(
        code, [p for p in code if owned(p)], Evidence(text, Strength.PRESENT, first, 1), first
    )


_REVIEW_WORDS = re.compile(r"model|metric|data|experiment|evaluat|reproduc", re.I)


@rule(
    code="TEAM002",
    name="no-pr-template",
    title="Pull requests follow a review template",
    severity="low",
    practices=("seml-15", "mts-model-1"),
)
def no_pr_template(facts: Facts) -> Outcome:
    """## What it finds
    A pull (merge) request template: `.github/pull_request_template.md`, a
    `PULL_REQUEST_TEMPLATE/` folder, `.gitlab/merge_request_templates/`, or Azure DevOps'
    `pull_request_template.md`; the evidence notes whether it asks about models, data or
    metrics.

    ## Why it matters
    SE-ML practice 15 and ML Test Score Model 1 ask that training code and model specs
    be reviewed before they are merged. A template makes every author state what changed
    in the model and how it was evaluated, and gives reviewers a checklist.

    ## Example
    Pull requests titled "update" with an empty description.

    ## Instead
    ```markdown
    <!-- .github/pull_request_template.md -->
    ## What changes in the model or data?
    ## Evaluation (metrics before / after, on which data version)
    - [ ] tests pass  - [ ] model card updated
    ```
    """
    templates = facts.docs.of("pr-template")
    if not templates:
        where = facts.files.anchor()
        return Outcome.failed(Hit("no pull request template to guide reviews", where))
    evidence = []
    for t in templates[:2]:
        ml = " (asks about models, data or metrics)" if _REVIEW_WORDS.search(t.text or "") else ""
        evidence.append(doc_evidence(t, f"pull request template {t.path}{ml}"))
    return Outcome.passed(*evidence)


@rule(
    code="TEAM003",
    name="no-collaborative-platform",
    title="The code is hosted on a collaborative development platform",
    severity="medium",
    practices=("seml-35",),
)
def no_collaborative_platform(facts: Facts) -> Outcome:
    """## What it finds
    Where the repository is hosted: a git remote on GitHub, GitLab, Bitbucket or Azure
    DevOps, or (in an exported copy) that platform's configuration (`.github/`,
    `.gitlab-ci.yml`, ...) or project URLs pointing to it.

    ## Why it matters
    SE-ML practice 35: a shared platform gives the team pull requests, reviews, issues
    and CI in one place; practices 15, 25 and 36 build on it.

    ## Example
    A repository that lives on one workstation and is shared as zip files.

    ## Instead
    ```sh
    git remote add origin git@github.com:acme/churn-model.git && git push -u origin main
    ```
    """
    git = facts.git
    if git.host is not None:
        remote = next(iter(git.remotes))
        return Outcome.passed(
            Evidence(f"remote '{remote}' is hosted on {git.host}", Strength.PRESENT)
        )
    found = [
        Evidence(f"{name} configuration ({d}/)", Strength.PRESENT, facts.files.under(d)[0], 1)
        for d, name in _PLATFORM_DIRS.items()
        if facts.files.under(d)
    ]
    found += [
        Evidence(f"{provider} CI ({path})", Strength.PRESENT, path, 1)
        for path in facts.ci.files
        if (provider := _provider(path)) is not None
    ]
    urls = facts.docs.project_urls
    found += [
        Evidence(
            f"project URL {label}: {url}",
            Strength.DECLARED,
            facts.files.anchor("pyproject.toml", "setup.*"),
            None,
        )
        for label, url in urls.items()
        if _HOSTS.search(url)
    ][:1]
    if found:
        return Outcome.passed(*found[:2])
    if git.remotes:
        url = next(iter(git.remotes.values()))
        return Outcome.unknown(f"remote {url} is not a known collaborative platform")
    if not git.is_repo:
        return Outcome.unknown("not a git work tree and no platform configuration: hosting unknown")
    return Outcome.failed(
        Hit("no remote: the repository is not shared on a platform", facts.files.anchor())
    )


def _provider(path: str) -> str | None:
    if path.startswith(".github/"):
        return "GitHub Actions"
    if "gitlab" in path:
        return "GitLab"
    if "azure" in path:
        return "Azure Pipelines"
    if "bitbucket" in path:
        return "Bitbucket Pipelines"
    return None


_TRACKER = re.compile(
    r"github\.com/[\w.-]+/[\w.-]+/(issues|projects)|gitlab\.[\w.]+/.+/-/(issues|boards)|"
    r"atlassian\.net|jira\.|linear\.app|trello\.com|youtrack|/issues\b",
    re.I,
)


@rule(
    code="TEAM004",
    name="no-shared-backlog",
    title="Work is planned in a shared backlog",
    severity="low",
    practices=("seml-36",),
)
def no_shared_backlog(facts: Facts) -> Outcome:
    """## What it finds
    Signs of a shared issue tracker: issue templates (`.github/ISSUE_TEMPLATE/`,
    `.gitlab/issue_templates/`), an "Issues" or "Bug Tracker" project URL, or a link to
    the tracker (GitHub or GitLab issues and boards, Jira, Linear, Trello) in the README
    or contribution guide. On a hosted repository with none of these the tracker may
    still be in use, which the repository cannot show: unknown.

    ## Why it matters
    SE-ML practice 36: one prioritised backlog that data scientists, engineers and
    stakeholders share keeps model work tied to what the product needs, and links each
    change to the reason for it.

    ## Example
    Tasks kept in personal notes and chat threads.

    ## Instead
    Add `.github/ISSUE_TEMPLATE/` (bug, model-quality report, experiment proposal) and a
    `Bug Tracker` URL under `[project.urls]`.
    """
    docs = facts.docs
    evidence = [doc_evidence(t, f"issue template {t.path}") for t in docs.of("issue-template")[:2]]
    for label, url in docs.project_urls.items():
        if re.search(r"issue|tracker|bug", label, re.I) or _TRACKER.search(url):
            path = facts.files.anchor("pyproject.toml", "setup.cfg", "setup.py")
            evidence.append(Evidence(f"project URL {label}: {url}", Strength.DECLARED, path, None))
            break
    for doc in docs.of("readme", "contributing"):
        line = doc.mentions(_TRACKER.pattern)
        if line is not None:
            evidence.append(
                Evidence(f"{doc.path} links the issue tracker", Strength.DECLARED, doc.path, line)
            )
            break
    if evidence:
        return Outcome.passed(*evidence[:3])
    hosted = facts.git.host or next(
        (n for d, n in _PLATFORM_DIRS.items() if facts.files.under(d)), None
    )
    if hosted or not facts.git.is_repo:
        where = f"hosted on {hosted}" if hosted else "an exported copy"
        return Outcome.unknown(
            f"{where}: an issue tracker may be in use, the repository does not show it"
        )
    return Outcome.failed(Hit("no issue tracker or backlog is referenced", facts.files.anchor()))


_CONTRACT_FILES = (
    *("openapi.yaml", "openapi.yml", "openapi.json", "swagger.yaml", "swagger.yml", "swagger.json"),
    *("*.proto", "datacontract*.yaml", "datacontract*.yml", "*.avsc", "*.graphql"),
)


@rule(
    code="TEAM005",
    name="no-contribution-docs",
    title="Contribution guides, release notes and interfaces are written down",
    severity="low",
    practices=("seml-37",),
)
def no_contribution_docs(facts: Facts) -> Outcome:
    """## What it finds
    Three ways a team aligns with the people around it: a contribution guide
    (CONTRIBUTING), release notes (a CHANGELOG, release notes, or changelog tooling such
    as towncrier or release-drafter), and written interfaces with other teams (OpenAPI,
    protobuf, Avro, data contracts). Two of the three pass; one is partial.

    ## Why it matters
    SE-ML practice 37 (communicate, align, and collaborate with others) is mostly about
    people, but its traces are documents: how to contribute, what changed in each model
    release, and what other systems may rely on.

    ## Example
    A model whose consumers learn of a changed output format from an outage.

    ## Instead
    `CONTRIBUTING.md` (setup, tests, review), `CHANGELOG.md` with a section per model
    release, and `api/openapi.yaml` for the prediction API.
    """
    docs = facts.docs
    evidence: list[Evidence] = []
    if (guide := docs.first("contributing")) is not None:
        evidence.append(doc_evidence(guide, f"contribution guide {guide.path}", Strength.DECLARED))
    if (log := docs.first("changelog")) is not None:
        evidence.append(doc_evidence(log, f"release notes {log.path}", Strength.DECLARED))
    elif docs.release_tooling:
        path = docs.release_tooling[0]
        evidence.append(Evidence(f"release-notes tooling ({path})", Strength.PRESENT, path, 1))
    contracts = facts.files.glob(*_CONTRACT_FILES)
    if contracts:
        evidence.append(
            Evidence(f"interface contract {contracts[0]}", Strength.PRESENT, contracts[0], 1)
        )
    if len(evidence) >= 2:
        return Outcome.passed(*evidence)
    missing = "contribution guide, release notes or interface contracts"
    if evidence:
        hit = Hit(f"only one of: {missing}; write down a second", facts.files.anchor())
        return Outcome.partial(0.5, hit, evidence=evidence)
    return Outcome.failed(Hit(f"no {missing}", facts.files.anchor()))


@rule(
    code="TEAM006",
    name="no-decision-records",
    title="Trade-offs are decided and recorded (decision records)",
    severity="low",
    practices=("seml-38",),
)
def no_decision_records(facts: Facts) -> Outcome:
    """## What it finds
    Architecture or model decision records: documents under `docs/adr/`, `adr/`,
    `docs/decisions/`, `doc/architecture/decisions/`, or `ADR-*.md` files. Design
    documents or RFCs without a decision log are partial.

    ## Why it matters
    SE-ML practice 38: ML systems trade accuracy against explainability, latency, cost
    and fairness. Writing down each decision, the options and why one won makes the
    trade-off deliberate and lets newcomers see it was.

    ## Example
    A switch from logistic regression to a deep model whose reasons left with the person
    who made it.

    ## Instead
    ```markdown
    # docs/adr/0007-use-gradient-boosting.md
    Status: accepted (2025-02-10)
    Context: ... Options: ... Decision: ... Consequences: explanations via SHAP ...
    ```
    """
    docs = facts.docs
    records = docs.of("adr")
    if records:
        first = min(records, key=lambda d: d.path)
        return Outcome.passed(
            doc_evidence(first, f"{len(records)} decision record(s), e.g. {first.path}")
        )
    designs = docs.of("design")
    if designs:
        return Outcome.partial(
            0.5,
            Hit(
                "design documents, but no record of decisions and the options weighed",
                designs[0].path,
                1,
            ),
            evidence=[doc_evidence(designs[0], f"design document {designs[0].path}")],
        )
    where = facts.files.anchor("docs/*", "README*")
    return Outcome.failed(Hit("no decision records (e.g. docs/adr/0001-*.md)", where))


_OBJECTIVE = (
    r"\b(objectives?|goals?|purpose|motivation|problem( statement| definition)?|the task|"
    r"intended use|use cases?|success criteria|kpis?)\b|^task\b|what (it|this) (does|predicts)"
)
#: a heading longer than this is a sentence that happens to contain the word
_MAX_HEADING_WORDS = 8
_METRIC_SECTION = r"evaluation|metrics?\b|results|benchmark|baselines?|performance"
_METRIC_WORDS = re.compile(
    r"\b(accuracy|f1|auc|roc|rmse|mae|mse|precision|recall|bleu|rouge|perplexity|loss|map|iou|"
    r"r2|top-?1|wer)\b",
    re.I,
)


@rule(
    code="TEAM007",
    name="training-objective-unstated",
    title="The training objective and its metric are written down",
    severity="medium",
    practices=("seml-9",),
    applies_when=("model",),
)
def training_objective_unstated(facts: Facts) -> Outcome:
    """## What it finds
    A section in the README, the model card or a design document that states what the
    model is for (objective, goal, problem statement, purpose, intended use). A results
    or evaluation section without one is half of it; a metric only mentioned in passing,
    a quarter.

    ## Why it matters
    SE-ML practice 9: a team that has not written down what the model must achieve
    optimises different things, and cannot tell when it is done. The section is also
    where the link between the offline metric and the product goal is argued.

    ## Example
    A README that explains how to run `train.py` but not what a good model is.

    ## Instead
    ```markdown
    ## Objective
    Rank support tickets by urgency so that P1 tickets are answered within 1 hour.
    Primary metric: recall of P1 at 90% precision on the monthly hold-out set.
    ```
    """
    docs = facts.docs
    # an ADR's "motivation" is a design decision's, not the model's: ADRs are not read here
    for doc in [*docs.of("model-card"), *docs.of("readme"), *docs.of("design")]:
        heading = next(
            (
                h
                for h in doc.headings
                if len(h.text.split()) <= _MAX_HEADING_WORDS and re.search(_OBJECTIVE, h.text, re.I)
            ),
            None,
        )
        if heading is not None:
            text = f"objective stated: '{heading.text[:60]}' in {doc.path}"
            return Outcome.passed(Evidence(text, Strength.PRESENT, doc.path, heading.line))
    for doc in [*docs.of("model-card"), *docs.of("readme")]:
        heading = doc.section(_METRIC_SECTION)
        if heading is not None:
            text = f"metric section '{heading.text[:60]}' in {doc.path}"
            return Outcome.partial(
                0.5,
                Hit(
                    "results are reported, but no section states the objective",
                    doc.path,
                    heading.line,
                ),
                evidence=[Evidence(text, Strength.PRESENT, doc.path, heading.line)],
            )
    readme = docs.readme
    if readme is not None:
        line = readme.mentions(_METRIC_WORDS.pattern)
        if line is not None:
            return Outcome.partial(
                0.25,
                Hit(
                    "the README names a metric but no section states the objective", readme.path, 1
                ),
                evidence=[
                    Evidence("README mentions a metric", Strength.DECLARED, readme.path, line)
                ],
            )
    return Outcome.failed(
        Hit("no document states the training objective and its metric", facts.files.anchor())
    )
