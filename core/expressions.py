"""Conditions (`when`): a small expression language, parsed and evaluated without `eval`.

    steps.check.output.total > 100 and input.country in ["FR", "DE"]

Grammar (lowest precedence first):

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand [("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in") operand]
    operand    := literal | reference | "exists" reference | "[" [expr ("," expr)*] "]"
                | "(" expr ")"
    reference  := name ("." (name | digits))*          e.g. steps.check.output.items.0
    literal    := number | "string" | 'string' | true | false | null

Meaning, chosen so that a condition never fails at run time:
- A reference to a missing path is null; `exists p` is true when `p` is there and not null.
- `==`/`!=` compare JSON values (true is not 1); `<`, `<=`, `>`, `>=` compare two numbers
  or two strings, and are false for anything else (null < 1 is false).
- `a in b`: an element of a list, a key of an object, a substring of a string; else false.
- `and`, `or`, `not` take JSON truthiness (null, false, 0, "", [], {} are false).

Input is hostile: the text, the number of tokens, the nesting depth and list sizes are
bounded, the tokenizer and parser are linear, and every error names its column.
"""

from dataclasses import dataclass

MAX_LENGTH = 2000
MAX_TOKENS = 400
MAX_DEPTH = 32
MAX_LIST = 200
MAX_NUMBER_DIGITS = 30

KEYWORDS = {"and", "or", "not", "in", "exists", "true", "false", "null"}
COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "in", "not in"}
ROOTS = ("input", "steps", "run")
ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "/": "/"}


class ExpressionError(ValueError):
    """A condition that cannot be parsed; `position` is the 0-based offset in the text."""

    def __init__(self, message, position):
        super().__init__(f"{message} (at column {position + 1})")
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "number", "string", "op", "end"
    value: object
    position: int


# ---------------------------------------------------------------------------
# Tokenizer


def tokenize(text):
    if not isinstance(text, str):
        raise ExpressionError("a condition must be a string", 0)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"a condition is at most {MAX_LENGTH} characters", MAX_LENGTH)
    tokens = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in " \t\r\n":
            i += 1
            continue
        if len(tokens) >= MAX_TOKENS:
            raise ExpressionError(f"a condition has at most {MAX_TOKENS} parts", i)
        if char.isascii() and (char.isalpha() or char == "_"):
            end = i + 1
            while end < n and text[end].isascii() and (text[end].isalnum() or text[end] in "_-"):
                end += 1
            tokens.append(Token("name", text[i:end], i))
            i = end
        elif char.isdigit() and tokens and tokens[-1].value == "." and tokens[-1].kind == "op":
            end = i + 1  # a list index in a reference: items.0.name
            while end < n and text[end].isdigit():
                end += 1
            if end - i > MAX_NUMBER_DIGITS:
                raise ExpressionError(f"an index has at most {MAX_NUMBER_DIGITS} digits", i)
            tokens.append(Token("number", int(text[i:end]), i))
            i = end
        elif char.isdigit() or (char == "-" and i + 1 < n and text[i + 1].isdigit()):
            i = _number(text, i, tokens)
        elif char in "\"'":
            i = _string(text, i, tokens)
        elif text.startswith(("==", "!=", "<=", ">="), i):
            tokens.append(Token("op", text[i : i + 2], i))
            i += 2
        elif char in "<>()[],.":
            tokens.append(Token("op", char, i))
            i += 1
        elif char == "=":
            raise ExpressionError("use == to compare", i)
        else:
            raise ExpressionError(f"unexpected character {char!r}", i)
    tokens.append(Token("end", None, n))
    return tokens


def _number(text, start, tokens):
    end = start + 1
    while end < len(text) and (text[end].isdigit() or text[end] in ".eE+-"):
        if text[end] in "+-" and text[end - 1] not in "eE":
            break
        end += 1
    raw = text[start:end]
    if end - start > MAX_NUMBER_DIGITS:
        raise ExpressionError(f"a number has at most {MAX_NUMBER_DIGITS} characters", start)
    try:
        value = float(raw) if any(c in raw for c in ".eE") else int(raw)
    except ValueError:
        raise ExpressionError(f"{raw!r} is not a number", start) from None
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        raise ExpressionError(f"{raw!r} is not a finite number", start)
    tokens.append(Token("number", value, start))
    return end


def _string(text, start, tokens):
    quote = text[start]
    parts = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == quote:
            tokens.append(Token("string", "".join(parts), start))
            return i + 1
        if char == "\\":
            escaped = text[i + 1] if i + 1 < len(text) else ""
            if escaped not in ESCAPES:
                raise ExpressionError("unknown escape in a string (use \\\" \\' \\\\ \\n \\t)", i)
            parts.append(ESCAPES[escaped])
            i += 2
            continue
        parts.append(char)
        i += 1
    raise ExpressionError("a string is not closed", start)


# ---------------------------------------------------------------------------
# Parser: tuples as nodes, ("lit", v) ("ref", path) ("exists", path) ("list", [..])
# ("not", x) ("and", a, b) ("or", a, b) ("cmp", op, a, b)


@dataclass(frozen=True)
class Expression:
    text: str
    tree: tuple
    references: tuple  # (dotted path, position) in the order written

    def evaluate(self, context):
        """The condition's value over `context` ({"input": ..., "steps": ..., "run": ...})."""
        try:
            return _eval(self.tree, context)
        except RecursionError:  # comparing absurdly deep JSON values: not equal
            return None

    def holds(self, context):
        return truthy(self.evaluate(context))


def parse(text):
    """An Expression, or ExpressionError naming the column of the first problem."""
    parser = _Parser(tokenize(text))
    tree = parser.expr(0)
    token = parser.peek()
    if token.kind != "end":
        raise ExpressionError(f"unexpected {_describe(token)}", token.position)
    return Expression(text=text, tree=tree, references=tuple(parser.references))


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.index = 0
        self.references = []

    def peek(self, ahead=0):
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self):
        token = self.peek()
        self.index += 1
        return token

    def is_op(self, value, ahead=0):
        token = self.peek(ahead)
        return token.kind == "op" and token.value == value

    def is_word(self, value, ahead=0):
        token = self.peek(ahead)
        return token.kind == "name" and token.value == value

    def expect_op(self, value):
        token = self.take()
        if token.kind != "op" or token.value != value:
            raise ExpressionError(f"expected {value!r}, found {_describe(token)}", token.position)

    def deeper(self, depth, position):
        if depth >= MAX_DEPTH:
            raise ExpressionError(f"a condition nests at most {MAX_DEPTH} levels", position)
        return depth + 1

    def expr(self, depth):
        depth = self.deeper(depth, self.peek().position)
        node = self.and_expr(depth)
        while self.is_word("or"):
            self.take()
            node = ("or", node, self.and_expr(depth))
        return node

    def and_expr(self, depth):
        node = self.not_expr(depth)
        while self.is_word("and"):
            self.take()
            node = ("and", node, self.not_expr(depth))
        return node

    def not_expr(self, depth):
        if self.is_word("not"):
            token = self.take()
            return ("not", self.not_expr(self.deeper(depth, token.position)))
        return self.comparison(depth)

    def comparison(self, depth):
        left = self.operand(depth)
        token = self.peek()
        if token.kind == "op" and token.value in COMPARISONS or self.is_word("in"):
            op = self.take().value
        elif self.is_word("not") and self.is_word("in", 1):
            self.take(), self.take()
            op = "not in"
        else:
            return left
        right = self.operand(depth)
        following = self.peek()
        if following.kind == "op" and following.value in COMPARISONS or self.is_word("in"):
            raise ExpressionError(
                "comparisons do not chain; join them with and", following.position
            )
        return ("cmp", op, left, right)

    def operand(self, depth):
        token = self.peek()
        if token.kind in ("number", "string"):
            self.take()
            return ("lit", token.value)
        if token.kind == "op" and token.value == "(":
            self.take()
            node = self.expr(depth)
            self.expect_op(")")
            return node
        if token.kind == "op" and token.value == "[":
            return self.list_literal(depth)
        if token.kind == "name":
            if token.value in ("true", "false", "null"):
                self.take()
                return ("lit", {"true": True, "false": False, "null": None}[token.value])
            if token.value == "exists":
                self.take()
                following = self.peek()
                if following.kind != "name" or following.value in KEYWORDS:
                    raise ExpressionError("exists needs a reference after it", following.position)
                return ("exists", self.reference())
            if token.value not in KEYWORDS:
                return ("ref", self.reference())
        if token.kind == "end":
            raise ExpressionError("the condition ends too early", token.position)
        raise ExpressionError(f"unexpected {_describe(token)}", token.position)

    def list_literal(self, depth):
        start = self.take()
        items = []
        if self.is_op("]"):
            self.take()
            return ("list", tuple(items))
        while True:
            if len(items) >= MAX_LIST:
                raise ExpressionError(f"a list has at most {MAX_LIST} items", start.position)
            items.append(self.expr(depth))
            if self.is_op(","):
                self.take()
                continue
            self.expect_op("]")
            return ("list", tuple(items))

    def reference(self):
        first = self.take()
        parts = [first.value]
        while self.is_op("."):
            self.take()
            token = self.take()
            if token.kind == "name":
                parts.append(token.value)
            elif token.kind == "number" and isinstance(token.value, int) and token.value >= 0:
                parts.append(str(token.value))
            else:
                raise ExpressionError(
                    f"expected a field name after '.', found {_describe(token)}", token.position
                )
        path = ".".join(parts)
        if parts[0] not in ROOTS:
            raise ExpressionError(
                f"unknown reference root {parts[0]!r}; use {', '.join(ROOTS)}", first.position
            )
        self.references.append((path, first.position))
        return path


def _describe(token):
    if token.kind == "end":
        return "the end"
    if token.kind == "string":
        return "a string"
    return repr(str(token.value))


# ---------------------------------------------------------------------------
# Evaluation


MISSING = object()


def lookup(context, path):
    """The value at a dotted path, or MISSING."""
    current = context
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current


def truthy(value):
    return value not in (None, False, 0, "") and value != [] and value != {}


def _eval(node, context):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "ref":
        found = lookup(context, node[1])
        return None if found is MISSING else found
    if kind == "exists":
        found = lookup(context, node[1])
        return found is not MISSING and found is not None
    if kind == "list":
        return [_eval(item, context) for item in node[1]]
    if kind == "not":
        return not truthy(_eval(node[1], context))
    if kind == "and":
        return truthy(_eval(node[1], context)) and truthy(_eval(node[2], context))
    if kind == "or":
        return truthy(_eval(node[1], context)) or truthy(_eval(node[2], context))
    _, op, left, right = node
    return _compare(op, _eval(left, context), _eval(right, context))


def _compare(op, left, right):
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op == "in":
        return _contains(right, left)
    if op == "not in":
        return not _contains(right, left)
    both_numbers = _is_number(left) and _is_number(right)
    both_strings = isinstance(left, str) and isinstance(right, str)
    if not (both_numbers or both_strings):
        return False
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(left, right):
    """JSON equality: booleans are not numbers, 1 == 1.0, lists and objects deeply."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _is_number(left) and _is_number(right):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_equal(left[k], right[k]) for k in left)
    return type(left) is type(right) and left == right


def _contains(container, item):
    if isinstance(container, list):
        return any(_equal(item, element) for element in container)
    if isinstance(container, dict):
        return isinstance(item, str) and item in container
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    return False
