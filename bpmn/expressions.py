"""Restricted expressions (biểu thức điều kiện) for gateway conditions and timer literals.

Uploaded BPMN files are data, never code. A condition is parsed with :mod:`ast`, checked
against a small grammar and then interpreted by walking the tree; nothing is ever passed to
``eval``/``exec``/``compile`` into a code object.

The grammar ("the Python form SpiffWorkflow uses"):

* literals: strings, integers, floats, ``True``/``False``/``None`` (also ``true``/``false``/
  ``null``), a leading ``-``/``+`` on a number, and lists/tuples whose items are literals;
* names, looked up in the task data (a name starting with ``_`` is refused);
* comparisons ``== != < <= > >= in not in`` (chains like ``1 < x <= 3`` included);
* ``and``, ``or``, ``not`` and parentheses.

Everything else (calls, attributes, subscripts, arithmetic, lambdas, comprehensions,
f-strings, ``:=``, ``if``-expressions, ``is``) is refused with a reason.

Two modeller dialects of the same grammar are translated token by token:

* Camunda 7 JUEL: ``${decision == 'approve' && !urgent}`` (also ``#{…}``); ``&& || !``,
  ``eq ne lt gt le ge``, ``and or not``, ``true false null``.
* Camunda 8 FEEL: ``=decision = "approve" and not(urgent)``; single ``=`` is equality,
  ``!=``, ``and or not(…)``, ``true false null``.

Public API::

    compile_condition(text) -> Condition        # raises ExpressionError
    Condition.evaluate(data: Mapping) -> bool   # raises ExpressionError (e.g. unknown name)
    compile_expression(text) -> Expression      # same grammar, returns the value
    translate(text) -> str                      # the normalised Python-form text

Errors carry an English ``msgid`` with ``params`` so callers can translate them (the linter's
gettext domain ``lint`` holds the Vietnamese catalogue); ``str(error)`` is the English text.
"""
from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_LENGTH", "MAX_NODES", "MAX_DEPTH",
    "ExpressionError", "Expression", "Condition",
    "compile_condition", "compile_expression", "translate",
]

# Bounds keep a hostile condition from costing more than a few microseconds to check.
MAX_LENGTH = 2000
MAX_NODES = 400
MAX_DEPTH = 40

_LITERAL_NAMES = {"true": True, "false": False, "null": None}


def N_(msgid: str) -> str:
    """Mark a message for extraction (gettext_noop); translated later by the caller."""
    return msgid


class ExpressionError(ValueError):
    """An expression outside the grammar, or one that cannot be evaluated on the data."""

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(msgid % params if params else msgid)


# --- dialect translation ---------------------------------------------------------------------

_TWO_CHAR_OPS = ("&&", "||", "==", "!=", "<=", ">=")
_ONE_CHAR_OPS = "!=<>()[],.+-*/%"

_JUEL_WORDS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=",
               "and": "and", "or": "or", "not": "not",
               "true": "True", "false": "False", "null": "None"}
_JUEL_OPS = {"&&": "and", "||": "or", "!": "not"}
_FEEL_WORDS = {"and": "and", "or": "or", "not": "not",
               "true": "True", "false": "False", "null": "None"}


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "number", "string", "op"
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "'\"":
            j = i + 1
            while j < n and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise ExpressionError(N_("unterminated string literal at position %(pos)s"), pos=i + 1)
            tokens.append(_Token("string", text[i:j + 1], i))
            i = j + 1
        elif ch.isdigit():
            j = i
            while j < n and (text[j].isdigit() or text[j] == "."):
                j += 1
            tokens.append(_Token("number", text[i:j], i))
            i = j
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(_Token("name", text[i:j], i))
            i = j
        elif text[i:i + 2] in _TWO_CHAR_OPS:
            tokens.append(_Token("op", text[i:i + 2], i))
            i += 2
        elif ch in _ONE_CHAR_OPS:
            tokens.append(_Token("op", ch, i))
            i += 1
        else:
            raise ExpressionError(N_("unexpected character '%(char)s' at position %(pos)s"),
                                  char=ch, pos=i + 1)
    return tokens


def _translate_juel(body: str) -> str:
    out = []
    for tok in _tokenize(body):
        if tok.kind == "name":
            out.append(_JUEL_WORDS.get(tok.text, tok.text))
        elif tok.kind == "op" and tok.text in _JUEL_OPS:
            out.append(_JUEL_OPS[tok.text])
        elif tok.kind == "op" and tok.text == "=":
            raise ExpressionError(N_("'=' is an assignment in JUEL; compare with '==' or 'eq'"))
        else:
            out.append(tok.text)
    return " ".join(out)


def _translate_feel(body: str) -> str:
    out = []
    for tok in _tokenize(body):
        if tok.kind == "name":
            out.append(_FEEL_WORDS.get(tok.text, tok.text))
        elif tok.kind == "op" and tok.text == "=":
            out.append("==")
        elif tok.kind == "op" and tok.text in ("==", "&&", "||", "!"):
            raise ExpressionError(N_("'%(op)s' is not FEEL; use '=', 'and', 'or' and 'not(…)'"),
                                  op=tok.text)
        else:
            out.append(tok.text)
    return " ".join(out)


def translate(text: str) -> str:
    """Return the Python-form text of a condition written in Python, JUEL or FEEL form."""
    if not isinstance(text, str):
        raise ExpressionError(N_("the expression is not text"))
    if len(text) > MAX_LENGTH:
        raise ExpressionError(N_("the expression is longer than %(limit)s characters"), limit=MAX_LENGTH)
    stripped = text.strip()
    if not stripped:
        raise ExpressionError(N_("the expression is empty"))
    if stripped[:2] in ("${", "#{"):
        if not stripped.endswith("}"):
            raise ExpressionError(N_("a JUEL expression must end with '}'"))
        return _translate_juel(stripped[2:-1])
    if stripped.startswith("="):
        return _translate_feel(stripped[1:])
    return stripped


# --- grammar check ---------------------------------------------------------------------------

_COMPARISONS = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}

_REFUSED = {
    ast.Call: N_("function calls are not allowed"),
    ast.Attribute: N_("attribute access (a.b) is not allowed"),
    ast.Subscript: N_("indexing and slicing are not allowed"),
    ast.BinOp: N_("arithmetic is not allowed"),
    ast.Lambda: N_("lambda expressions are not allowed"),
    ast.JoinedStr: N_("f-strings are not allowed"),
    ast.FormattedValue: N_("f-strings are not allowed"),
    ast.NamedExpr: N_("assignment expressions (:=) are not allowed"),
    ast.IfExp: N_("if-expressions are not allowed"),
    ast.Dict: N_("dictionaries are not allowed"),
    ast.Set: N_("sets are not allowed"),
    ast.ListComp: N_("comprehensions are not allowed"),
    ast.SetComp: N_("comprehensions are not allowed"),
    ast.DictComp: N_("comprehensions are not allowed"),
    ast.GeneratorExp: N_("comprehensions are not allowed"),
    ast.Await: N_("await is not allowed"),
    ast.Yield: N_("yield is not allowed"),
    ast.YieldFrom: N_("yield is not allowed"),
    ast.Starred: N_("starred expressions are not allowed"),
    ast.Slice: N_("indexing and slicing are not allowed"),
}


def _literal_value(node: ast.AST) -> tuple[bool, Any]:
    """(True, value) when *node* is a literal of the grammar, else (False, None)."""
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or isinstance(value, (bool, int, float, str)):
            return True, value
        return False, None
    if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
        return True, _LITERAL_NAMES[node.id]
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) in (int, float)):
        value = node.operand.value
        return True, -value if isinstance(node.op, ast.USub) else value
    return False, None


def _check(tree: ast.Expression) -> frozenset[str]:
    """Validate *tree* against the grammar; return the data names it reads."""
    names: set[str] = set()
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(N_("the expression is too complex (more than %(limit)s elements)"),
                                  limit=MAX_NODES)
        if depth > MAX_DEPTH:
            raise ExpressionError(N_("the expression is nested too deeply (more than %(limit)s levels)"),
                                  limit=MAX_DEPTH)
        is_literal, _ = _literal_value(node)
        if is_literal:
            continue
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise ExpressionError(N_("names starting with an underscore are not allowed (%(name)s)"),
                                      name=node.id)
            names.add(node.id)
        elif isinstance(node, ast.Constant):
            raise ExpressionError(N_("only text, numbers, True/False and None are allowed as literals"))
        elif isinstance(node, ast.BoolOp):
            stack.extend((value, depth + 1) for value in node.values)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.Not):
                raise ExpressionError(N_("arithmetic is not allowed"))
            stack.append((node.operand, depth + 1))
        elif isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _COMPARISONS:
                    raise ExpressionError(N_("the operator '%(op)s' is not allowed; use == or !="),
                                          op="is not" if isinstance(op, ast.IsNot) else "is")
            stack.extend((child, depth + 1) for child in [node.left, *node.comparators])
        elif isinstance(node, (ast.List, ast.Tuple)):
            if not all(_literal_value(item)[0] for item in node.elts):
                raise ExpressionError(N_("lists and tuples may contain only literal values"))
            count += len(node.elts)
        else:
            reason = _REFUSED.get(type(node), N_("this construct is not allowed (%(construct)s)"))
            raise ExpressionError(reason, construct=type(node).__name__)
    return frozenset(names)


def _parse(python_text: str) -> tuple[ast.Expression, frozenset[str]]:
    try:
        tree = ast.parse(python_text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(N_("syntax error at column %(column)s"), column=exc.offset or 1) from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError(N_("the expression cannot be read")) from None
    return tree, _check(tree)


# --- evaluation ------------------------------------------------------------------------------

def _evaluate(node: ast.AST, data: Mapping[str, Any]) -> Any:
    is_literal, value = _literal_value(node)
    if is_literal:
        return value
    if isinstance(node, ast.Name):
        try:
            return data[node.id]
        except KeyError:
            raise ExpressionError(N_("unknown name '%(name)s' (not in the task data)"), name=node.id) from None
    if isinstance(node, ast.BoolOp):
        result: Any = None
        for child in node.values:
            result = _evaluate(child, data)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result
    if isinstance(node, ast.UnaryOp):  # only `not` passes the check
        return not _evaluate(node.operand, data)
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, data)
        for op, right_node in zip(node.ops, node.comparators):
            right = _evaluate(right_node, data)
            try:
                ok = _COMPARISONS[type(op)](left, right)
            except TypeError:
                raise ExpressionError(N_("cannot compare %(left)s with %(right)s"),
                                      left=type(left).__name__, right=type(right).__name__) from None
            if not ok:
                return False
            left = right
        return True
    if isinstance(node, (ast.List, ast.Tuple)):
        return tuple(_literal_value(item)[1] for item in node.elts)
    raise ExpressionError(N_("this construct is not allowed (%(construct)s)"),
                          construct=type(node).__name__)


@dataclass(frozen=True)
class Expression:
    """A checked expression: ``source`` as written, ``python`` its normalised Python form."""

    source: str
    python: str
    names: frozenset[str]
    _tree: ast.Expression = field(repr=False, compare=False)

    def evaluate(self, data: Mapping[str, Any]) -> Any:
        """The value of the expression on *data* (task data); ExpressionError if it cannot."""
        return _evaluate(self._tree.body, data)


@dataclass(frozen=True)
class Condition(Expression):
    """A checked gateway condition; :meth:`evaluate` returns a bool."""

    def evaluate(self, data: Mapping[str, Any]) -> bool:
        return bool(super().evaluate(data))


@functools.lru_cache(maxsize=2048)
def _compile(text: str) -> tuple[str, ast.Expression, frozenset[str]]:
    python_text = translate(text)
    tree, names = _parse(python_text)
    return python_text, tree, names


def compile_expression(text: str) -> Expression:
    """Check *text* (Python, JUEL or FEEL form) against the grammar; ExpressionError if outside."""
    if not isinstance(text, str):
        raise ExpressionError(N_("the expression is not text"))
    python_text, tree, names = _compile(text)
    return Expression(text, python_text, names, tree)


def compile_condition(text: str) -> Condition:
    """Like :func:`compile_expression`, for a gateway condition (evaluates to a bool)."""
    if not isinstance(text, str):
        raise ExpressionError(N_("the expression is not text"))
    python_text, tree, names = _compile(text)
    return Condition(text, python_text, names, tree)
