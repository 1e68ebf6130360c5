"""The restricted expression grammar (bpmn/expressions.py): accept, refuse, translate, evaluate."""
from __future__ import annotations

import ast
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpmn.expressions import (
    MAX_LENGTH, Condition, ExpressionError, compile_condition, compile_expression, translate,
)

DATA = {"decision": "approve", "urgent": False, "amount": 12, "score": 7.5, "kind": "b", "note": None,
        "tags": "abc"}


@pytest.mark.parametrize("text, expected", [
    ("decision == 'approve'", True),
    ("decision != 'approve'", False),
    ("decision == 'approve' and not urgent", True),
    ("urgent or amount > 10", True),
    ("amount >= 12 and amount <= 12", True),
    ("amount < 12", False),
    ("1 < amount <= 12", True),
    ("kind in ('a', 'b')", True),
    ("kind in ['a', 'c']", False),
    ("kind not in ('a', 'c')", True),
    ("'b' in tags", True),
    ("note == None", True),
    ("note == null", True),
    ("urgent == false", True),
    ("(decision == 'approve') and (amount > -1)", True),
    ("score > 7", True),
    ("amount == +12", True),
    ("True", True),
    ("not (urgent or decision == 'return')", True),
    ("decision == \"approve\"", True),
    ("decision == 'approve'  # a comment changes nothing", True),
])
def test_python_form_accepted_and_evaluated(text, expected):
    condition = compile_condition(text)
    assert isinstance(condition, Condition)
    assert condition.evaluate(DATA) is expected
    assert condition.python == text.strip()


@pytest.mark.parametrize("text, fragment", [
    ("__import__('os').system('id')", "function calls"),
    ("open('/etc/passwd')", "function calls"),
    ("decision.upper() == 'A'", "function calls"),
    ("decision.real", "attribute"),
    ("tags[0] == 'a'", "indexing"),
    ("tags[1:]", "indexing"),
    ("amount + 1 > 2", "arithmetic"),
    ("-amount < 0", "arithmetic"),
    ("lambda: 1", "lambda"),
    ("f'{decision}' == 'x'", "f-strings"),
    ("(x := 1)", "assignment"),
    ("1 if urgent else 2", "if-expressions"),
    ("{'a': 1}", "dictionaries"),
    ("{1, 2}", "sets"),
    ("[x for x in tags]", "comprehensions"),
    ("_secret == 1", "underscore"),
    ("__class__", "underscore"),
    ("decision is None", "operator 'is'"),
    ("decision is not None", "operator 'is not'"),
    ("kind in (decision, 'b')", "only literal values"),
    ("b'x' == decision", "literals"),
    ("import os", "syntax error"),
    ("decision = 'x'", "syntax error"),
    ("decision ==", "syntax error"),
    ("", "empty"),
    ("   ", "empty"),
    ("x" * (MAX_LENGTH + 1), "longer than"),
    ("a<" * 450 + "a", "too complex"),
    ("not " * 60 + "urgent", "nested too deeply"),
])
def test_outside_the_grammar_is_refused_with_a_reason(text, fragment):
    with pytest.raises(ExpressionError) as caught:
        compile_condition(text)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("juel, python", [
    ("${decision == 'approve'}", "decision == 'approve'"),
    ("${decision == 'approve' && !urgent}", "decision == 'approve' and not urgent"),
    ("#{urgent || amount gt 10}", "urgent or amount > 10"),
    ("${amount ge 1 and amount le 20 and kind ne 'x'}", "amount >= 1 and amount <= 20 and kind != 'x'"),
    ("${amount lt 20 && amount eq 12}", "amount < 20 and amount == 12"),
    ("${note == null || urgent == true || urgent != false}", "note == None or urgent == True or urgent != False"),
    ("${not urgent}", "not urgent"),
    ("${ !(urgent) }", "not ( urgent )"),
    ('${decision == "app\\"rove"}', 'decision == "app\\"rove"'),
])
def test_juel_translation(juel, python):
    assert translate(juel) == python
    compile_condition(juel).evaluate(DATA)


@pytest.mark.parametrize("feel, python", [
    ('=decision = "approve"', 'decision == "approve"'),
    ('= decision = "approve" and not(urgent)', 'decision == "approve" and not ( urgent )'),
    ("=amount >= 10 or urgent = true", "amount >= 10 or urgent == True"),
    ('=decision != "return"', 'decision != "return"'),
    ("=note = null", "note == None"),
    ("=amount <= 12", "amount <= 12"),
])
def test_feel_translation(feel, python):
    assert translate(feel) == python
    assert compile_condition(feel).evaluate(DATA) is True


@pytest.mark.parametrize("text", [
    "${execution.getVariable('x')}",       # JUEL method call
    "${x = 1}",                             # JUEL assignment
    "${decision == 'a'",                    # unterminated JUEL
    '=contains(decision, "a")',             # FEEL function
    "=decision == \"a\"",                   # not FEEL
    "=urgent && amount > 1",                # not FEEL
    "${'unterminated}",
    "decision == 'a' ; import os",
    "decision == 'a'\nimport os",
])
def test_dialect_constructs_outside_the_grammar_are_refused(text):
    with pytest.raises(ExpressionError):
        compile_condition(text)


def test_missing_name_is_a_clear_error_at_evaluation():
    condition = compile_condition("decision == 'approve' and missing_flag")
    assert condition.names == frozenset({"decision", "missing_flag"})
    with pytest.raises(ExpressionError, match="unknown name 'missing_flag'"):
        condition.evaluate(DATA)
    # short-circuit: the missing name is not needed when the first operand decides
    assert compile_condition("decision == 'x' and missing_flag").evaluate(DATA) is False


def test_type_mismatch_is_an_expression_error():
    with pytest.raises(ExpressionError, match="cannot compare str with int"):
        compile_condition("decision < 3").evaluate(DATA)
    with pytest.raises(ExpressionError):
        compile_condition("'a' in amount").evaluate(DATA)


def test_expression_returns_values_for_timer_literals():
    assert compile_expression("'PT4H'").evaluate({}) == "PT4H"
    assert compile_expression("kind").evaluate(DATA) == "b"
    assert compile_expression("(1, 'a', -2.5)").evaluate({}) == (1, "a", -2.5)


def test_error_keeps_msgid_and_params_for_translation():
    with pytest.raises(ExpressionError) as caught:
        compile_condition("x" * (MAX_LENGTH + 1))
    assert caught.value.msgid == "the expression is longer than %(limit)s characters"
    assert caught.value.params == {"limit": MAX_LENGTH}


_EVENTS: list[str] = []
_RECORDING = [False]


def _audit(event, args):
    if _RECORDING[0] and event in ("compile", "exec"):
        _EVENTS.append(event)


sys.addaudithook(_audit)


def test_no_code_object_is_ever_built():
    # ast.parse raises a "compile" audit event (it only builds a tree); "exec" would mean a code
    # object ran. Evaluating must raise neither.
    text = "amount > 3 and kind in ('a', 'b') and not urgent  # audited"
    _EVENTS.clear()
    _RECORDING[0] = True
    try:
        condition = compile_condition(text)
        during_compile = list(_EVENTS)
        _EVENTS.clear()
        assert condition.evaluate(DATA) is True
        during_evaluate = list(_EVENTS)
    finally:
        _RECORDING[0] = False
    assert "exec" not in during_compile
    assert during_evaluate == []


# --- properties ------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_text_is_accepted_or_refused_cleanly(text):
    try:
        condition = compile_condition(text)
    except ExpressionError:
        return
    try:
        condition.evaluate(DATA)
    except ExpressionError:
        pass


_names = st.sampled_from(sorted(DATA))
_literals = st.one_of(st.integers(-50, 50), st.sampled_from(["'approve'", "'b'", "None", "True", "False"]))


@st.composite
def _conditions(draw, depth=0):
    if depth > 2 or draw(st.booleans()):
        op = draw(st.sampled_from(["==", "!="]))
        return f"{draw(_names)} {op} {draw(_literals)}"
    kind = draw(st.sampled_from(["and", "or", "not"]))
    if kind == "not":
        return f"not ({draw(_conditions(depth + 1))})"
    return f"({draw(_conditions(depth + 1))}) {kind} ({draw(_conditions(depth + 1))})"


@settings(max_examples=200, deadline=None)
@given(_conditions())
def test_grammar_agrees_with_python_on_its_own_subset(text):
    # An independent oracle: Python's own semantics on the same tree (test-only, trusted text).
    expected = bool(_python_oracle(ast.parse(text, mode="eval").body, DATA))
    assert compile_condition(text).evaluate(DATA) is expected
    juel = "${" + text.replace(" and ", " && ").replace(" or ", " || ") + "}"
    assert compile_condition(juel).evaluate(DATA) is expected


def _python_oracle(node, data):
    if isinstance(node, ast.BoolOp):
        values = [_python_oracle(v, data) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _python_oracle(node.operand, data)
    if isinstance(node, ast.UnaryOp):
        return -node.operand.value
    if isinstance(node, ast.Compare):
        left, right = _python_oracle(node.left, data), _python_oracle(node.comparators[0], data)
        return left == right if isinstance(node.ops[0], ast.Eq) else left != right
    if isinstance(node, ast.Name):
        return data[node.id]
    return node.value
