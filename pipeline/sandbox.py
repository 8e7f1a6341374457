"""The template sandbox with a size limit on what one expression may build.

The render limits (output size, seconds) are checked between pieces of output, but one C-level call
such as `"x".center(10**9)` builds its gigabyte before either can act, so anything that takes a size
from the template is checked before it runs."""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from functools import wraps

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_VALUE_CHARS = 1_000_000  # a string or list a template may build in one step


def _too_big(what: str) -> jinja2.exceptions.SecurityError:
    return jinja2.exceptions.SecurityError(f"{what} would build a value longer than {MAX_VALUE_CHARS} characters or items")


def repeated_size(left: object, right: object) -> int:
    """The length `left * right` would have when one side is a string or list and the other a count."""
    sequence, count = (left, right) if isinstance(right, int) else (right, left)
    if not isinstance(sequence, str | list | tuple) or not isinstance(count, int):
        return 0
    return len(sequence) * count


# Widths and precisions of printf-style ("%-12.3f", "%*d") and str.format ("{:>12}", "{:{}}") fields.
_PRINTF_FIELD = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_SPEC = re.compile(r"\{[^{}:]*:([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")


def format_size(template: str, args: tuple, kwargs: dict) -> int:
    """An upper bound on the padding a format string asks for; a width taken from the arguments (`%*d`,
    `{:{}}`) counts as the largest number among them."""
    printf = [g for m in _PRINTF_FIELD.finditer(template) for g in m.groups() if g]
    specs = _FORMAT_SPEC.findall(template)
    widths = [int(g) for g in printf if g.isdigit()] + [int(n) for spec in specs for n in re.findall(r"\d+", spec)]
    if "*" in printf or any("{" in spec for spec in specs):
        values = [*args, *kwargs.values()]
        values += [v for a in args if isinstance(a, tuple | list) for v in a]
        values += [v for a in args if isinstance(a, dict) for v in a.values()]
        widths += [v for v in values if isinstance(v, int)]
    return len(template) + max(widths, default=0)


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) else len(value) if isinstance(value, str) else default


def method_size(subject: str, name: str, args: tuple, kwargs: dict) -> int:
    """How long the result of `subject.name(*args)` can be, for the str methods whose size the caller picks."""
    if name in ("center", "ljust", "rjust", "zfill"):
        return max(len(subject), _int(args[0] if args else kwargs.get("width")))
    if name == "expandtabs":
        return len(subject) + subject.count("\t") * _int(args[0] if args else kwargs.get("tabsize"), 8)
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        found = len(subject) + 1 if not args[0] else subject.count(args[0])
        return len(subject) + found * max(0, len(args[1]) - len(args[0]))
    return 0


def _bounded_filter(name: str, size: Callable[..., int]) -> Callable:
    """A jinja2 filter that refuses, before running, a call whose result would be too long."""
    original = jinja2.filters.FILTERS[name]

    @wraps(original)
    def bounded(*args, **kwargs):
        if size(*args, **kwargs) > MAX_VALUE_CHARS:
            raise _too_big(f"the {name} filter")
        return original(*args, **kwargs)
    return bounded


def _indent_size(value: object, width: object = 4, *args, **kwargs) -> int:
    text = str(value)
    return len(text) + (text.count("\n") + 1) * _int(kwargs.get("width", width), 4)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus a size limit on what `*`, `**`, `+`, `%`, padding, formatting and
    replacing may build ('a' * 10**9, "x".center(10**9), "%999999999s" % x)."""

    intercepted_binops = frozenset(["*", "**", "+", "%"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["center"] = _bounded_filter("center", lambda value, width=80: max(len(str(value)), _int(width)))
        self.filters["indent"] = _bounded_filter("indent", _indent_size)
        self.filters["format"] = _bounded_filter("format", lambda value, *a, **k: format_size(str(value), a, k))
        self.filters["replace"] = _bounded_filter(  # jinja2 passes the eval context first
            "replace", lambda _, value, old, new, count=None: method_size(str(value), "replace", (str(old), str(new)), {}))

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise jinja2.exceptions.SecurityError("exponents above 64 are not allowed in templates")
        if operator == "*" and repeated_size(left, right) > MAX_VALUE_CHARS:  # checked before it is built
            raise _too_big("'*'")
        if operator == "%" and isinstance(left, str) and \
                format_size(left, right if isinstance(right, tuple) else (right,), {}) > MAX_VALUE_CHARS:
            raise _too_big("'%' formatting")
        result = super().call_binop(context, operator, left, right)
        if repeated_size(result, 1) > MAX_VALUE_CHARS:
            raise _too_big(f"'{operator}'")
        return result

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (jinja2's own signature)
        subject = getattr(__obj, "__self__", None)
        if isinstance(__obj, types.BuiltinMethodType) and isinstance(subject, str) and \
                method_size(subject, __obj.__name__, args, kwargs) > MAX_VALUE_CHARS:
            raise _too_big(f"str.{__obj.__name__}()")
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value):
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        template = value.__self__

        @wraps(wrapper)
        def bounded(*args, **kwargs):
            if format_size(template, args, kwargs) > MAX_VALUE_CHARS:
                raise _too_big("str.format()")
            return wrapper(*args, **kwargs)
        return bounded
