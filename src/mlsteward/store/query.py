"""The run filter language and ``order_by``: parsed by hand, compiled to SQLAlchemy Core.

A filter such as ``metrics.auc > 0.8 and params.lr = 0.1`` is parsed by a small
recursive-descent parser into a tree of `Node` values, type-checked against the fields
(so a mistake is reported at its column, before any SQL runs), then compiled to a
WHERE clause over ``runs``. Each metric, param or tag test is an ``IN (SELECT run_id
...)`` over the key's index, so a filter never loads the runs' values. The grammar and
the semantics (latest metric values, NaN, missing keys) are in docs/runs.md::

    expr       := or
    or         := and ('or' and)*
    and        := unary ('and' unary)*
    unary      := 'not' unary | '(' expr ')' | comparison
    comparison := field op literal
                | field ['not'] 'in' '(' literal (',' literal)* ')'
                | field ['not'] ('like' | 'ilike') string
                | field 'is' ['not'] 'null'
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, true

from mlsteward.errors import UsageError
from mlsteward.store.schema import latest_metrics, params, runs, tags

__all__ = [
    "ATTRIBUTES",
    "Compare",
    "Field",
    "FilterError",
    "InList",
    "IsNull",
    "Like",
    "Literal",
    "Logic",
    "Node",
    "Not",
    "OrderKey",
    "apply_order",
    "filter_clause",
    "parse_field",
    "parse_filter",
    "parse_order_by",
]

# run columns a filter may name, with the type of value they compare with
ATTRIBUTES: dict[str, str] = {
    "id": "text",
    "name": "text",
    "experiment": "text",
    "status": "text",
    "start_time": "time",
    "end_time": "time",
    "duration": "number",
    "git_commit": "text",
    "git_branch": "text",
    "git_dirty": "bool",
    "user": "text",
    "host": "text",
}
_ALIASES = {"run_id": "id", "run_name": "name"}  # MLflow's spellings, for people moving over
_PREFIXES = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
}
_OPERATORS = {
    "=": "=",
    "==": "=",
    "!=": "!=",
    "<>": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}
_COMPARE = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_OP = re.compile(r"==|!=|<>|<=|>=|=|<|>")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME = re.compile(r"[A-Za-z0-9_\-./:]+")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z0-9_.])")
_TOKEN = re.compile(r"[A-Za-z0-9_\-./:]+|'[^']*'?|\"[^\"]*\"?|`[^`]*`?|==|!=|<>|<=|>=|\S")
_KEYWORDS = {"and", "or", "not", "in", "like", "ilike", "is", "null", "true", "false"}
_FIELD = "a field (metrics.NAME, params.NAME, tags.NAME or a run attribute)"
_DOC = "the filter language is described in docs/runs.md"


class FilterError(UsageError):
    """A filter or order_by that cannot be parsed (``filter-syntax``) or names an unknown
    attribute (``filter-field``); ``position`` is the 0-based column of the mistake."""

    code = "filter-syntax"

    def __init__(
        self, message: str, *, code: str, hint: str, text: str, position: int, what: str
    ) -> None:
        # show the line holding the mistake (a filter may span lines), tabs as spaces
        start = text.rfind("\n", 0, position) + 1
        end = text.find("\n", position)
        line = text[start : end if end >= 0 else len(text)].replace("\t", " ")
        column = position - start
        super().__init__(
            f"{what} error at column {column + 1}:\n  {line}\n  {' ' * column}^\n{message}",
            code=code,
            hint=hint,
        )
        self.position = position
        self.text = text


# -- the tree -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """``metrics.auc`` is Field("metric", "auc"); a run column is kind "attribute"."""

    kind: str  # metric | param | tag | attribute
    name: str

    def __str__(self) -> str:
        return f"{self.kind}s.{self.name}" if self.kind != "attribute" else self.name


@dataclass(frozen=True)
class Literal:
    """A value as written: a float, a str or a bool; ``raw`` keeps a number's spelling."""

    value: float | str | bool
    raw: str


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str  # = != < <= > >=
    literal: Literal


@dataclass(frozen=True)
class InList:
    field: Field
    literals: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    field: Field
    pattern: str
    negated: bool
    insensitive: bool


@dataclass(frozen=True)
class IsNull:
    field: Field
    negated: bool


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class Logic:
    op: str  # and | or
    nodes: tuple[Node, ...]


Node = Compare | InList | Like | IsNull | Not | Logic


@dataclass(frozen=True)
class OrderKey:
    field: Field
    descending: bool


# -- parsing --------------------------------------------------------------------------------


def parse_filter(text: str | None) -> Node | None:
    """Parse a filter; None for an empty one.

    Raises:
        FilterError: a syntax or type mistake (code ``filter-syntax``) or an unknown run
            attribute (``filter-field``), with a caret under the column.
    """
    if text is None or not text.strip():
        return None
    parser = _Parser(text, "filter")
    node = parser.expr()
    parser.end("'and', 'or' or the end of the filter")
    return node


def parse_field(text: str) -> Field:
    """Parse one field name such as ``metrics.auc``, ``params.`my lr``` or ``status``.

    Raises:
        FilterError: not a field.
    """
    parser = _Parser(text, "field")
    field = parser.field()
    parser.end("the end of the field")
    return field


def parse_order_by(spec: str | Sequence[str] | None) -> list[OrderKey]:
    """Parse ``"-metrics.auc"``, ``"metrics.auc desc"``, ``"start_time"`` or a list of them.

    Raises:
        FilterError: a key that is not a field, or a direction other than asc/desc.
    """
    if spec is None:
        return [OrderKey(Field("attribute", "start_time"), descending=True)]
    items = [spec] if isinstance(spec, str) else list(spec)
    keys = []
    for item in items:
        parser = _Parser(item, "order_by")
        parser.skip()
        descending = False
        if parser.peek() in "-+":
            descending = parser.peek() == "-"
            parser.pos += 1
        field = parser.field()
        if parser.keyword("desc"):
            descending = True
        elif parser.keyword("asc"):
            descending = False
        parser.end("'asc', 'desc' or the end of the key")
        keys.append(OrderKey(field, descending))
    return keys


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what
        self.pos = 0

    # scanning

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos : self.pos + 1]

    def keyword(self, word: str) -> bool:
        self.skip()
        end = self.pos + len(word)
        if self.text[self.pos : end].lower() != word:
            return False
        if end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "_.-/:"):
            return False
        self.pos = end
        return True

    def symbol(self, char: str) -> bool:
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def fail(self, expected: str, at: int | None = None) -> NoReturn:
        """Refuse with "expected X, found Y", Y being the token at ``at``."""
        at = self.pos if at is None else at
        match = _TOKEN.match(self.text, at)
        found = repr(match.group()) if match else f"the end of the {self.what}"
        self.refuse(f"expected {expected}, found {found}", at, code="filter-syntax")

    def refuse(
        self, message: str, at: int | None = None, code: str = "filter-syntax", hint: str = _DOC
    ) -> NoReturn:
        at = self.pos if at is None else at
        raise FilterError(
            message, code=code, hint=hint, text=self.text, position=at, what=self.what
        )

    def end(self, expected: str) -> None:
        self.skip()
        if self.pos < len(self.text):
            self.fail(expected)

    # grammar

    def expr(self) -> Node:
        nodes = [self.conjunction()]
        while self.keyword("or"):
            nodes.append(self.conjunction())
        return nodes[0] if len(nodes) == 1 else Logic("or", tuple(nodes))

    def conjunction(self) -> Node:
        nodes = [self.unary()]
        while self.keyword("and"):
            nodes.append(self.unary())
        return nodes[0] if len(nodes) == 1 else Logic("and", tuple(nodes))

    def unary(self) -> Node:
        if self.keyword("not"):
            return Not(self.unary())
        if self.symbol("("):
            node = self.expr()
            if not self.symbol(")"):
                self.fail("')' or 'and'/'or'")
            return node
        return self.comparison()

    def comparison(self) -> Node:
        field = self.field()
        negated = self.keyword("not")
        if self.keyword("in"):
            return self.in_list(field, negated)
        for word in ("like", "ilike"):
            if self.keyword(word):
                return self.like(field, negated, insensitive=word == "ilike")
        if negated:
            self.fail("'in', 'like' or 'ilike' after 'not'")
        if self.keyword("is"):
            negated = self.keyword("not")
            if not self.keyword("null"):
                self.fail("'null'" if negated else "'null' or 'not null'")
            return IsNull(field, negated)
        self.skip()
        match = _OP.match(self.text, self.pos)
        if match is None:
            self.fail("an operator (= != < <= > >=, in, like, ilike or is)")
        self.pos = match.end()
        op = _OPERATORS[match.group()]
        self.skip()
        at = self.pos
        literal = self.literal()
        _check(self, field, literal, at, op)
        return Compare(field, op, _coerce(self, field, literal, at))

    def in_list(self, field: Field, negated: bool) -> Node:
        if not self.symbol("("):
            self.fail("'(' to open the list after 'in'")
        literals = []
        while True:
            self.skip()
            at = self.pos
            literal = self.literal()
            _check(self, field, literal, at, "in")
            literals.append(_coerce(self, field, literal, at))
            if self.symbol(")"):
                return InList(field, tuple(literals), negated)
            if not self.symbol(","):
                self.fail("',' or ')' in the list")

    def like(self, field: Field, negated: bool, *, insensitive: bool) -> Node:
        self.skip()
        at = self.pos
        if field.kind == "metric" or (
            field.kind == "attribute" and ATTRIBUTES[field.name] != "text"
        ):
            self.refuse(f"{field} is not text: 'like' and 'ilike' match text", at)
        literal = self.literal()
        if not isinstance(literal.value, str):
            self.refuse(f"expected a quoted pattern, found {literal.raw}", at)
        return Like(field, literal.value, negated, insensitive)

    def field(self) -> Field:
        self.skip()
        start = self.pos
        match = _WORD.match(self.text, self.pos)
        if match is None:
            self.fail(_FIELD)
        word = match.group()
        self.pos = match.end()
        if self.pos < len(self.text) and self.text[self.pos] == ".":
            kind = _PREFIXES.get(word.lower())
            if kind is None:
                self.refuse(
                    f"{word!r} is not a field prefix; expected metrics., params., tags. or "
                    "attributes.",
                    start,
                    code="filter-field",
                )
            self.pos += 1
            name = self.key_name()
            if kind != "attribute":
                return Field(kind, name)
            return self.attribute(name, start)
        if word.lower() in _KEYWORDS:
            self.fail(_FIELD, start)
        return self.attribute(word, start)

    def key_name(self) -> str:
        quote = self.text[self.pos : self.pos + 1]
        if quote in ("`", '"'):
            end = self.text.find(quote, self.pos + 1)
            if end < 0:
                self.refuse(f"the name has no closing {quote}")
            name = self.text[self.pos + 1 : end]
            self.pos = end + 1
        else:
            match = _NAME.match(self.text, self.pos)
            name = match.group() if match else ""
            self.pos = match.end() if match else self.pos
        if not name:
            self.fail("a name after the prefix (quote it with backquotes if it has spaces)")
        return name

    def attribute(self, word: str, start: int) -> Field:
        name = _ALIASES.get(word.lower(), word.lower())
        if name not in ATTRIBUTES:
            self.refuse(
                f"{word!r} is not a run attribute; the attributes are {', '.join(ATTRIBUTES)}",
                start,
                code="filter-field",
                hint=f"for a metric, param or tag write metrics.{word}, params.{word} or "
                f"tags.{word}; {_DOC}",
            )
        return Field("attribute", name)

    def literal(self) -> Literal:
        self.skip()
        char = self.peek()
        if char in ("'", '"'):
            start = self.pos
            value = self.string(char)
            return Literal(value, self.text[start : self.pos])
        match = _NUMBER.match(self.text, self.pos)
        if match is not None:
            self.pos = match.end()
            return Literal(float(match.group()), match.group())
        for word in ("true", "false"):
            if self.keyword(word):
                return Literal(word == "true", word)
        self.fail("a value (a number, a 'quoted string', true or false)")

    def string(self, quote: str) -> str:
        start = self.pos
        out = []
        i = self.pos + 1
        while i < len(self.text):
            char = self.text[i]
            if char == "\\" and i + 1 < len(self.text) and self.text[i + 1] in (quote, "\\"):
                out.append(self.text[i + 1])  # only quotes and backslashes are escapes, so
                i += 2  # a like pattern keeps its own \% and \_ escapes
                continue
            if char == quote:
                self.pos = i + 1
                return "".join(out)
            out.append(char)
            i += 1
        self.refuse(f"the string starting here has no closing {quote}", start)


def _kind(field: Field) -> str:
    """What a field compares with: number, text, textnum (params), time or bool."""
    if field.kind == "metric":
        return "number"
    if field.kind == "param":
        return "textnum"
    if field.kind == "tag":
        return "text"
    return ATTRIBUTES[field.name]


def _check(parser: _Parser, field: Field, literal: Literal, at: int, op: str) -> None:
    kind, value = _kind(field), literal.value
    if kind == "number" and not (isinstance(value, float)):
        parser.refuse(f"{field} compares with numbers; found {_show(literal)}", at)
    if kind == "bool" and not isinstance(value, bool):
        parser.refuse(f"{field} is true or false; found {_show(literal)}", at)
    if kind == "bool" and op not in ("=", "!=", "in"):
        parser.refuse(f"{field} is true or false: compare it with = or !=", at)
    if kind == "text" and isinstance(value, bool) and field.kind == "attribute":
        parser.refuse(f"{field} is text; found {_show(literal)}", at)
    if kind == "time" and isinstance(value, bool):
        parser.refuse(f"{field} is a time; found {_show(literal)}", at)


def _coerce(parser: _Parser, field: Field, literal: Literal, at: int) -> Literal:
    """Turn an ISO date given for a time into epoch seconds, a number for text into text."""
    kind, value = _kind(field), literal.value
    if kind == "time" and isinstance(value, str):
        try:
            return Literal(datetime.fromisoformat(value).timestamp(), literal.raw)
        except ValueError:
            parser.refuse(
                f"{field} is a time: give seconds since the epoch or an ISO date like "
                f"'2025-01-31' or '2025-01-31T12:00'; found {_show(literal)}",
                at,
            )
    if kind == "text" and isinstance(value, float):
        return Literal(literal.raw, literal.raw)
    return literal


def _show(literal: Literal) -> str:
    if isinstance(literal.value, str):
        return f"the string {literal.value!r}"
    return literal.raw


# -- compiling ------------------------------------------------------------------------------


def filter_clause(node: Node | None, dialect: str) -> ColumnElement[bool]:
    """The WHERE clause over ``runs`` that ``node`` means (``dialect``: sqlite|postgresql).

    The result is two-valued: a run either matches or not (no SQL NULL escapes), so
    ``not`` is the complement of what its operand matches.
    """
    if node is None:
        return true()
    if isinstance(node, Logic):
        parts = [filter_clause(n, dialect) for n in node.nodes]
        return and_(*parts) if node.op == "and" else or_(*parts)
    if isinstance(node, Not):
        return not_(filter_clause(node.node, dialect))
    field = node.field
    if field.kind == "attribute":
        return _attribute_clause(node, _column(field.name), dialect)
    table, key_clause = _key_table(field)
    if isinstance(node, IsNull):
        has = runs.c.id.in_(select(table.c.run_id).where(key_clause))
        return has if node.negated else not_(has)
    test = _value_clause(node, table, dialect)
    return runs.c.id.in_(select(table.c.run_id).where(key_clause, test))


def _key_table(field: Field) -> tuple[Any, ColumnElement[bool]]:
    table = {"metric": latest_metrics, "param": params, "tag": tags}[field.kind]
    return table, table.c.key == field.name


def _value_clause(node: Compare | InList | Like, table: Any, dialect: str) -> ColumnElement[bool]:
    if isinstance(node, Like):
        return _like(table.c.value, node, dialect)
    literals = [node.literal] if isinstance(node, Compare) else list(node.literals)
    if table is latest_metrics:
        # a NaN latest value is stored as NULL, so no comparison can match it
        return _test(table.c.value, node, [lit.value for lit in literals])
    if table is params:
        numbers = [lit.value for lit in literals if isinstance(lit.value, float)]
        strings = [lit.value for lit in literals if isinstance(lit.value, str)]
        booleans = [_text(lit) for lit in literals if isinstance(lit.value, bool)]
        parts = []
        if numbers:
            test = _test(table.c.value_num, node, numbers)
            if _excludes(node):  # a param that is not a number differs from every number
                test = or_(table.c.value_num.is_(None), test)
            parts.append(test)
        if strings:
            parts.append(_test(table.c.value, node, strings))
        if booleans:  # Python writes True, JSON true
            parts.append(_test(func.lower(table.c.value), node, booleans))
        if _excludes(node):
            return and_(*parts)
        return or_(*parts) if len(parts) > 1 else parts[0]
    return _test(table.c.value, node, [_text(lit) for lit in literals])


def _excludes(node: Compare | InList) -> bool:
    return node.negated if isinstance(node, InList) else node.op == "!="


def _text(literal: Literal) -> str:
    value = literal.value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else literal.raw


def _test(column: Any, node: Compare | InList, values: list[Any]) -> ColumnElement[bool]:
    test: ColumnElement[bool]
    if isinstance(node, InList):
        test = column.not_in(values) if node.negated else column.in_(values)
    else:
        test = _COMPARE[node.op](column, values[0])
    return test


def _column(name: str) -> Any:
    if name == "duration":
        return runs.c.end_time - runs.c.start_time
    return runs.c[name]


def _attribute_clause(node: Node, column: Any, dialect: str) -> ColumnElement[bool]:
    test: ColumnElement[bool]
    if isinstance(node, IsNull):
        test = column.is_not(None) if node.negated else column.is_(None)
        return test
    if isinstance(node, Like):
        test = _like(column, node, dialect)
    elif isinstance(node, Compare | InList):
        literals = [node.literal] if isinstance(node, Compare) else list(node.literals)
        test = _test(column, node, [lit.value for lit in literals])
    else:  # pragma: no cover - Logic and Not are handled by filter_clause
        raise TypeError(node)
    # a missing value (a running run's end_time) matches no test, and `not` matches it
    return and_(column.is_not(None), test)


def _like(column: Any, node: Like, dialect: str) -> ColumnElement[bool]:
    test: ColumnElement[bool]
    if node.insensitive:
        test = column.ilike(node.pattern, escape="\\")
    elif dialect == "sqlite":
        # SQLite's LIKE ignores case; GLOB does not, so a case-sensitive like becomes a glob
        test = column.op("GLOB", is_comparison=True)(_glob(node.pattern))
    else:
        test = column.like(node.pattern, escape="\\")
    return not_(test) if node.negated else test


def _glob(pattern: str) -> str:
    out = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            char = next(chars, "\\")
            out.append(f"[{char}]" if char in "*?[" else char)
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        elif char in "*?[":
            out.append(f"[{char}]")
        else:
            out.append(char)
    return "".join(out)


def apply_order(query: Select[Any], keys: Sequence[OrderKey]) -> Select[Any]:
    """Add ORDER BY for ``keys`` (missing values last either way) and a final tie-break on id.

    Each metric, param or tag key joins its table once, on the (run_id, key) primary key.
    """
    terms: list[Any] = []
    for i, key in enumerate(keys):
        field = key.field
        if field.kind == "attribute":
            values = [_column(field.name)]
            missing = values[0].is_(None)
        else:
            table, _ = _key_table(field)
            alias = table.alias(f"order_{i}")
            query = query.outerjoin(
                alias, and_(alias.c.run_id == runs.c.id, alias.c.key == field.name)
            )
            if field.kind == "param":
                # numbers in numeric order first, then the params that are text
                values = [alias.c.value_num.is_(None), alias.c.value_num, alias.c.value]
                missing = alias.c.value.is_(None)
            else:
                values = [alias.c.value]  # a NaN metric is NULL: it sorts with the missing
                missing = alias.c.value.is_(None)
        terms.append(missing)
        for j, value in enumerate(values):
            flag = field.kind == "param" and j == 0
            terms.append(value.desc() if key.descending and not flag else value)
    terms.append(runs.c.id)
    return query.order_by(*terms)
