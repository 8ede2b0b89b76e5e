"""GOV: governance and trust - model and data cards, values, risks, explanations, audits.

The governance practices of the SE-ML catalog (39 to 45: responsible-AI values, risk
assessments, fairness and privacy, informing users, explanations, safe channels to raise
concerns, audits) and its audit-trail practice (34), plus data documentation for
practices 3 and 5. Most evidence here is a document: the audit checks that it exists and
has the expected sections, never that it is true, so documents give *declared* (a
statement of values) or *present* (a card, an assessment, a report) evidence.
"""

from __future__ import annotations

import ast
import re

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.docs import Document
from mlsteward.audit.facts.records import finding, refs, registry_of, verified
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule
from mlsteward.audit.rules.dpl import evidence_of

_INTENDED = r"intended[ -]?use|\buses\b|use[ -]?cases?|direct use|out[- ]of[- ]scope|purpose"
_LIMITS = r"limitation|caveat|\brisks?\b|\bbias|known issues|recommendation|out[- ]of[- ]scope"


def doc_evidence(doc: Document, text: str, strength: Strength = Strength.PRESENT) -> Evidence:
    return Evidence(text, strength, doc.path, 1)


def _section(doc: Document, pattern: str, what: str, strength: Strength) -> Evidence | None:
    heading = doc.section(pattern)
    if heading is None:
        return None
    return Evidence(
        f"{what}: '{heading.text[:60]}' in {doc.path}", strength, doc.path, heading.line
    )


def dated(doc: Document) -> str:
    return f", dated {doc.latest_date.isoformat()}" if doc.latest_date else ""


@rule(
    code="GOV001",
    name="model-card-missing",
    title="A model card states the intended use and the limitations",
    severity="medium",
    practices=("seml-42",),
    applies_when=("users", "model"),
)
def model_card_missing(facts: Facts) -> Outcome:
    """## What it finds
    A model card (`MODEL_CARD.md`, `model_card*.md`, or a README with Hugging Face
    model-card metadata) with an intended-use section and a limitations section (the
    Hugging Face template's "Uses" and "Bias, Risks, and Limitations" count). A card
    without them is partial; a README that has both sections serves as the card.

    A project with mlsteward records may instead make its cards from them: every version
    at `production` (or at an alias a gate policy guards) has a card made by
    `steward models card`, and `[tool.steward.models.<name>]` declares `intended_use` and
    `limitations` (a third each). The better of the two counts.

    ## Why it matters
    SE-ML practice 42: the people affected by a model should know that it is used, what
    it is for, and where it fails. A model card is the standard place to say so, and the
    first thing a reviewer or a regulator asks for.

    ## Example
    A model served to customers whose only documentation is how to train it.

    ## Instead
    ```markdown
    # Model card: churn-classifier v7
    ## Intended use
    Ranking accounts for retention calls. Not for pricing or credit decisions.
    ## Limitations
    Trained on 2023 EU customers; recall drops for accounts younger than 30 days.
    ```
    """
    doc = _document_card(facts)
    recorded = _recorded_cards(facts)
    if recorded is None or recorded.score < doc.score:
        return doc
    return recorded


def _recorded_cards(facts: Facts) -> Outcome | None:
    """Cards made from the records for the released versions, with the declared use."""
    held = registry_of(facts).held
    if not held:
        return None
    source = facts.settings.source or "pyproject.toml"
    raw = facts.settings.extra.get("models")
    declared = raw if isinstance(raw, dict) else {}
    evidence: list[Evidence] = []
    hits: list[Hit] = []
    carded = [h for h in held if h.card]
    if carded:
        evidence.append(verified(f"model cards made from the records: {refs(carded)}"))
    hits += [
        finding(
            f"no model card was made for {h.ref}: run `steward models card {h.model} {h.version}`"
        )
        for h in held
        if not h.card
    ]
    score = len(carded) / len(held)
    for key, what in (("intended_use", "intended use"), ("limitations", "limitations")):
        names = sorted({h.model for h in held})
        without = [
            n
            for n in names
            if not isinstance(declared.get(n), dict)
            or not str(declared[n].get(key, "") or "").strip()
        ]
        if without:
            hits.append(
                Hit(
                    f"[tool.steward.models.{without[0]}] declares no {key}: the card says "
                    f"'{what}: not declared'",
                    source,
                )
            )
        else:
            evidence.append(
                Evidence(f"{what} declared for {', '.join(names)} in {source}", Strength.DECLARED,
                         source)
            )  # fmt: skip
            score += 1
    return Outcome.partial(score / 3, *hits, evidence=evidence)


def _document_card(facts: Facts) -> Outcome:
    docs = facts.docs
    cards = docs.of("model-card")
    readme = docs.readme
    if not cards and readme is not None and readme.section(_INTENDED) and readme.section(_LIMITS):
        cards = [readme]
    if not cards:
        return Outcome.failed(
            Hit(
                "no model card: add MODEL_CARD.md with intended use and limitations",
                facts.files.anchor(),
            )
        )
    best_score, best_card, best_evidence = -1.0, cards[0], []
    for card in cards:
        evidence = [doc_evidence(card, f"model card {card.path}")]
        for pattern, what in ((_INTENDED, "intended use"), (_LIMITS, "limitations")):
            found = _section(card, pattern, what, Strength.PRESENT)
            if found is not None:
                evidence.append(found)
        score = len(evidence) / 3
        if score > best_score:
            best_score, best_card, best_evidence = score, card, evidence
    missing = [
        what
        for pattern, what in (
            (_INTENDED, "an intended-use section"),
            (_LIMITS, "a limitations section"),
        )
        if best_card.section(pattern) is None
    ]
    hits = (
        [Hit(f"the model card has no {' and no '.join(missing)}", best_card.path, 1)]
        if missing
        else []
    )
    return Outcome.partial(best_score, *hits, evidence=best_evidence)


@rule(
    code="GOV002",
    name="datasheet-missing",
    title="The training data is documented in a datasheet or data card",
    severity="low",
    practices=("seml-3", "seml-5"),
    profiles=("production",),
    applies_when=("model",),
)
def datasheet_missing(facts: Facts) -> Outcome:
    """## What it finds
    A datasheet or data card for the training data (`DATASHEET.md`, `data_card.md`, a
    README with Hugging Face dataset-card metadata), noting whether it covers labelling
    and sensitive attributes. A README in a data folder is partial. Production profile
    only: a prototype on a public data set relies on that set's own card.

    ## Why it matters
    "Datasheets for datasets" record why and how data was collected, who labelled it and
    how, and which attributes are sensitive. SE-ML practice 3 (test for social bias)
    starts from knowing the sensitive and proxy attributes, and practice 5 (controlled
    labelling) from a written labelling procedure.

    ## Example
    `data/raw/customers.csv` with no word on its source, period, consent or labels.

    ## Instead
    ```markdown
    # Datasheet: customers-2024
    ## Motivation / Composition / Collection process
    ## Labelling: two annotators per record, disagreements resolved by a third
    ## Sensitive attributes: age, postcode (a proxy for ethnicity) - excluded from features
    ```
    """
    docs = facts.docs
    sheets = docs.of("datasheet")
    if sheets:
        evidence = []
        for sheet in sheets[:2]:
            evidence.append(doc_evidence(sheet, f"datasheet {sheet.path}{dated(sheet)}"))
            for pattern, what in (
                (r"label|annotat", "labelling"),
                (r"sensitive|demographic|bias|personal", "sensitive attributes"),
            ):
                found = _section(sheet, pattern, what, Strength.PRESENT)
                if found is not None:
                    evidence.append(found)
        return Outcome.passed(*evidence)
    data_readmes = docs.of("data-readme")
    if data_readmes:
        first = data_readmes[0]
        return Outcome.partial(
            0.5,
            Hit(
                "only a data README: a datasheet would also cover collection, labelling and "
                "sensitive attributes",
                first.path,
                1,
            ),
            evidence=[doc_evidence(first, f"data README {first.path}")],
        )
    where = facts.files.anchor()
    return Outcome.failed(Hit("no datasheet or data card documents the training data", where))


_VALUES = (
    r"responsible[ -]?ai|ethic|\bai (principles|values|policy)|(our|core|team) values|trustworthy"
)


@rule(
    code="GOV003",
    name="responsible-ai-values-unstated",
    title="The team's responsible-AI values are written down",
    severity="low",
    practices=("seml-39",),
    profiles=("production",),
    applies_when=("model",),
)
def responsible_ai_values_unstated(facts: Facts) -> Outcome:
    """## What it finds
    A responsible-AI policy, AI principles or ethics statement (`RESPONSIBLE_AI.md`,
    `docs/ai-principles.md`, ...), an "Ethical considerations" or "Responsible AI"
    section in the README, a model card or the docs, or a code of conduct that speaks of
    AI. A statement, so the evidence is *declared*. Production profile only.

    ## Why it matters
    SE-ML practice 39: explicit principles (fairness, transparency, human oversight, for
    example after the EU guidelines for trustworthy AI) are what design decisions and
    reviews can be held against.

    ## Example
    A credit-scoring model with no statement of what the team will not build or use.

    ## Instead
    Add `RESPONSIBLE_AI.md` naming the principles you follow and how they are checked,
    and link it from the README and the model card.
    """
    docs = facts.docs
    policies = docs.of("rai-policy")
    if policies:
        return Outcome.passed(
            *[
                doc_evidence(p, f"responsible-AI statement {p.path}", Strength.DECLARED)
                for p in policies[:2]
            ]
        )
    for doc in docs.of("readme", "model-card", "design", "contributing"):
        found = _section(doc, _VALUES, "values section", Strength.DECLARED)
        if found is not None:
            return Outcome.passed(found)
    for doc in docs.of("code-of-conduct"):
        line = doc.mentions(r"artificial intelligence|machine learning|responsible ai|\bAI\b")
        if line is not None:
            return Outcome.passed(
                Evidence(
                    f"code of conduct speaks of AI ({doc.path})", Strength.DECLARED, doc.path, line
                )
            )
    return Outcome.failed(
        Hit(
            "no responsible-AI values are stated; add a short policy and link it",
            facts.files.anchor(),
        )
    )


_RISK_SECTION = r"\brisks?\b|harms?|ethical considerations|safety|threat"


@rule(
    code="GOV004",
    name="risk-assessment-missing",
    title="A risk or impact assessment is documented",
    severity="low",
    practices=("seml-40",),
    profiles=("production",),
    applies_when=("model",),
)
def risk_assessment_missing(facts: Facts) -> Outcome:
    """## What it finds
    A risk or impact assessment document (`RISK_ASSESSMENT.md`, `docs/impact-assessment.md`,
    a DPIA, a threat model), with its date if it states one. A risks section in the model
    card or README is partial. Production profile only.

    ## Why it matters
    SE-ML practice 40: listing what can go wrong (wrong predictions, misuse, bias, data
    leaks), how likely and how bad, and what mitigates it, before release and again when
    the model changes. Regulations such as the EU AI Act require it for high-risk uses.

    ## Example
    A model that triages support tickets, released without anyone writing down what a
    misrouted urgent ticket costs.

    ## Instead
    `docs/risk-assessment.md`: date, scope, each risk with likelihood, impact, owner and
    mitigation; review it at every major model version.
    """
    docs = facts.docs
    found = docs.of("risk-assessment", "dpia")
    if found:
        return Outcome.passed(
            *[doc_evidence(d, f"assessment {d.path}{dated(d)}") for d in found[:2]]
        )
    for doc in docs.of("model-card", "readme"):
        section = _section(doc, _RISK_SECTION, "risks section", Strength.DECLARED)
        if section is not None:
            return Outcome.partial(
                0.5,
                Hit(
                    "risks are listed in a section, not assessed (likelihood, impact, mitigation)",
                    doc.path,
                    section.line,
                ),
                evidence=[section],
            )
    return Outcome.failed(Hit("no risk or impact assessment is documented", facts.files.anchor()))


_EXPLAIN_LIBS = {
    "shap": "SHAP",
    "lime": "LIME",
    "captum": "Captum",
    "alibi.explainers": "Alibi explainers",
    "interpret": "InterpretML",
    "eli5": "ELI5",
    "dice_ml": "DiCE counterfactuals",
    "dalex": "DALEX",
    "omnixai": "OmniXAI",
    "anchor": "Anchors",
}
_EXPLAIN_KEY = re.compile(
    r"explanation|explain|attribution|shap|reason|feature_importance|contribution", re.I
)


def _returns_explanation(node: ast.AST) -> int | None:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Dict):
            for k in sub.keys:
                if (
                    isinstance(k, ast.Constant)
                    and isinstance(k.value, str)
                    and _EXPLAIN_KEY.search(k.value)
                ):
                    return k.lineno
    return None


@rule(
    code="GOV005",
    name="explanations-not-given",
    title="Predictions come with explanations for the people they affect",
    severity="low",
    practices=("seml-43",),
    applies_when=("users", "model"),
)
def explanations_not_given(facts: Facts) -> Outcome:
    """## What it finds
    Explanations served with predictions: an explainer in the serving path (SHAP, LIME,
    Captum, Alibi, InterpretML, DiCE, ... imported by serving code), an explanation
    field in a prediction response, or a platform explainer (KServe or Seldon explainer,
    SageMaker Clarify, Vertex AI explanations). Explanations computed only offline
    (training code, notebooks) are partial.

    ## Why it matters
    SE-ML practice 43: a person affected by a decision should be able to learn why it
    was made. Explanations also let users and support staff spot a wrong prediction.

    ## Example
    `{"approved": false}` with nothing a case worker can relay to the applicant.

    ## Instead
    ```python
    contrib = explainer(features).values[0]
    top = sorted(zip(columns, contrib), key=lambda c: -abs(c[1]))[:3]
    reasons = [{"feature": f, "effect": float(v)} for f, v in top]
    return {"approved": bool(p > t), "reasons": reasons}
    ```
    """
    deploy = facts.deploy
    platform = deploy.of("explainer")
    if platform:
        return Outcome.passed(*evidence_of(platform))
    served: list[Evidence] = []
    offline: list[Evidence] = []
    for m in facts.python.source_modules:
        lib = next((lib for lib in _EXPLAIN_LIBS if lib in m.imports), None)
        if lib is None:
            continue
        item = Evidence(f"{_EXPLAIN_LIBS[lib]} in {m.path}", Strength.PRESENT, m.path, 1)
        (served if m.path in deploy.serving_modules else offline).append(item)
    for h in deploy.predict_handlers:
        line = _returns_explanation(h.node)
        if line is not None:
            served.append(
                Evidence(
                    f"{h.where()} returns an explanation field", Strength.PRESENT, h.path, line
                )
            )
    if served:
        return Outcome.passed(*served[:3])
    if offline:
        return Outcome.partial(
            0.5,
            Hit(
                "explanations are computed offline but not returned with predictions",
                offline[0].path,
            ),
            evidence=offline[:2],
        )
    handlers = deploy.predict_handlers
    if not handlers:
        return Outcome.unknown("no serving code in this repository to return explanations")
    return Outcome.failed(
        Hit(
            f"prediction endpoint {handlers[0].where()} returns no explanation",
            handlers[0].path,
            handlers[0].line,
        )
    )


_CONCERN_WORDS = r"ethic|bias|fairness|harm|concern|safety|abuse|misuse|responsible"
_CONCERN = re.compile(_CONCERN_WORDS, re.I)
_CONCERN_TITLE = rf"^\s*(name|title|about)\s*:.*({_CONCERN_WORDS})|^#\s.*({_CONCERN_WORDS})"


@rule(
    code="GOV006",
    name="no-concern-channel",
    title="Users and staff have a safe channel to raise concerns",
    severity="low",
    practices=("seml-44",),
    applies_when=("users", "model"),
)
def no_concern_channel(facts: Facts) -> Outcome:
    """## What it finds
    A channel for reporting problems and concerns: a `SECURITY.md` with a private
    reporting address, an issue template for ethical, bias or safety concerns, or a
    contact section in the model card. Generic issue templates or a code of conduct's
    contact are partial: they are public, or meant for the contributor community.

    ## Why it matters
    SE-ML practice 44: people who see a model cause harm, or a vulnerability, need a way
    to say so without exposing themselves, and the team needs to hear it early.

    ## Example
    A public bug tracker as the only way to report that the model discriminates.

    ## Instead
    `SECURITY.md` with a private address (or GitHub private vulnerability reporting),
    and `.github/ISSUE_TEMPLATE/model-concern.yml` for fairness and safety reports.
    """
    docs = facts.docs
    strong: list[Evidence] = [
        doc_evidence(d, f"security policy {d.path}") for d in docs.of("security")
    ]
    for tpl in docs.of("issue-template"):
        # what the template is for: its file name, or its name/title/about or first heading
        name = tpl.path.rsplit("/", 1)[-1]
        line = 1 if _CONCERN.search(name) else tpl.mentions(_CONCERN_TITLE)
        if line is not None:
            strong.append(
                Evidence(
                    f"issue template for concerns ({tpl.path})", Strength.PRESENT, tpl.path, line
                )
            )
    for card in docs.of("model-card"):
        found = _section(
            card, r"contact|feedback|report|concern", "contact in the model card", Strength.PRESENT
        )
        if found is not None:
            strong.append(found)
    if strong:
        return Outcome.passed(*strong[:3])
    weak = [doc_evidence(t, f"issue template {t.path}") for t in docs.of("issue-template")[:1]]
    weak += [
        doc_evidence(c, f"code of conduct {c.path}", Strength.DECLARED)
        for c in docs.of("code-of-conduct")[:1]
    ]
    if weak:
        return Outcome.partial(
            0.5,
            Hit(
                "concerns can only be raised in public or under the code of conduct; add a private "
                "channel (SECURITY.md, a contact in the model card)",
                weak[0].path or facts.files.anchor(),
            ),
            evidence=weak,
        )
    return Outcome.failed(
        Hit(
            "no channel to raise concerns (SECURITY.md, contact, concern template)",
            facts.files.anchor(),
        )
    )


@rule(
    code="GOV008",
    name="no-audit-report",
    title="The application has been audited",
    severity="low",
    practices=("seml-45",),
    profiles=("production",),
    applies_when=("model",),
)
def no_audit_report(facts: Facts) -> Outcome:
    """## What it finds
    An audit report in the repository: an `audit-report*` or `*-audit-report*` document,
    a root `AUDIT.md`, an audit PDF, or the documents of an `audits/` folder, with the
    date it states. mlsteward's own audit output does not count: it is not independent.
    Production profile only.

    ## Why it matters
    SE-ML practice 45: an independent review of the application and of how it was built
    finds what the team no longer sees, and shows users and regulators that someone
    checked. Audits go stale: repeat them at a set interval.

    ## Example
    A system that scores job applicants, never reviewed outside the team that built it.

    ## Instead
    Commission a review (internal audit, an external firm), keep the report in
    `docs/audits/2025-03-external-audit.pdf`, and track its findings as issues.
    """
    reports = facts.docs.of("audit-report")
    if reports:
        return Outcome.passed(
            *[doc_evidence(r, f"audit report {r.path}{dated(r)}") for r in reports[:2]]
        )
    return Outcome.failed(
        Hit("no audit report of the application in the repository", facts.files.anchor())
    )
