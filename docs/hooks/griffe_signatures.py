"""Griffe extension: xploss's public signatures and docstring sections.

``xploss``'s public functions are built by ``xploss._registry.functional`` from an options
record: the source shows ``dice_loss(y_true, y_pred, options, mask)``, the caller sees
``dice_loss(y_true, y_pred, *, mask=None, axis=None, ...)``. The core imports no framework, so
this extension imports ``xploss`` (and nothing else) and takes each function's
``inspect.signature``.

The adapters make the classes of one confusion-matrix score (``Specificity``, ...) with
``_single("Specificity")``, which static analysis reads as an attribute: the extension declares
each as a class with the docstring the adapter gives it (``single_score_doc`` of the core, with
the adapter's ``EXAMPLE`` lines).

The docstrings head their doctests ``Example:``, group arguments that share a description
(``y_true, y_pred, axis, ...: as in dice_coefficient``) over several lines, and continue a
description at the indentation of the names. The extension reads the first as a Google-style
``Examples:`` section, joins the names of a group onto one line and indents the continuations,
so that the examples render as code and each argument or group as one row.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from typing import Any

import griffe

KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}
EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)
SINGLE = re.compile(r"^_single\(['\"](\w+)['\"]\)$")
ARGS = re.compile(r"^(\s*)(?:Args|Arguments|Parameters):\s*$")
NAMES = re.compile(r"^\w+(?:, \w+)*,$")  # a group of names that goes on, on the next line
ITEM = re.compile(r"^\*{0,2}\w+(?:, \w+)*(?: \([^)]*\))?:(?: |$)")


def _parameters(function: Any) -> griffe.Parameters:
    parameters = []
    for parameter in inspect.signature(function).parameters.values():
        empty = parameter.default is inspect.Parameter.empty
        default = None if empty else repr(parameter.default)
        kind = KINDS[parameter.kind]
        parameters.append(griffe.Parameter(parameter.name, kind=kind, default=default))
    return griffe.Parameters(*parameters)


def _arguments(text: str, known: set[str] | None) -> str:
    """Each argument (or group of names) of an ``Args:`` section on one item line, its
    description's continuations indented below it. A line that starts like an item but names
    no parameter in ``known`` (``rows: ...``) is a continuation."""
    lines = text.split("\n")
    out: list[str] = []
    section: int | None = None  # the indentation of the section's items
    header: int | None = None
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if (match := ARGS.match(line)) is not None:
            header, section = len(match.group(1)), None
            out.append(line)
            continue
        if header is not None and stripped and indent <= header:
            header = section = None
        if header is None or not stripped:
            out.append(line)
            continue
        if section is None:
            section = indent
        if indent >= section and out and NAMES.match(out[-1].strip()):
            out[-1] = f"{out[-1]} {stripped}"
        elif indent == section and not _is_item(stripped, known):
            out.append(" " * (section + 4) + stripped)
        else:
            out.append(line)
    return "\n".join(out)


def _single_score_classes(pkg: griffe.Module) -> None:
    from xploss._confusion_report import single_score_doc

    for adapter in ("torch", "keras", "jax"):
        module = pkg.get_member(f"{adapter}.confusion")
        lines = ast.literal_eval(str(module.get_member("EXAMPLE").value))
        for name, member in list(module.members.items()):
            if member.is_alias or not isinstance(member, griffe.Attribute):
                continue
            match = SINGLE.match(str(member.value))
            if match is None:
                continue
            doc = inspect.cleandoc(single_score_doc(match.group(1), lines))
            made = griffe.Class(
                name,
                lineno=member.lineno,
                endlineno=member.endlineno,
                docstring=griffe.Docstring(
                    doc,
                    lineno=member.lineno,
                    parser=module.docstring.parser,
                    parser_options=module.docstring.parser_options,
                ),
                bases=["ConfusionMatrixMetric"],
            )
            module.set_member(name, made)


def _is_item(line: str, known: set[str] | None) -> bool:
    if NAMES.match(line):
        return True
    if not ITEM.match(line):
        return False
    names = re.split(r", ", line.split(":")[0].split(" (")[0].lstrip("*"))
    return known is None or all(name in known for name in names)


def _known(obj: griffe.Object) -> set[str] | None:
    """The parameter names of a function, or None where they are not all known."""
    if not isinstance(obj, griffe.Function):
        return None
    kinds = {p.kind for p in obj.parameters}
    if griffe.ParameterKind.var_keyword in kinds:
        return None
    return {p.name for p in obj.parameters}


def _docstrings(obj: griffe.Object) -> None:
    if obj.docstring is not None:
        text = EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
        obj.docstring.value = _arguments(text, _known(obj))
    for member in obj.members.values():
        if not member.is_alias:
            _docstrings(member)


class PublicSignatures(griffe.Extension):
    """Set the parameters of every function of ``xploss.__all__`` to its runtime ones, and
    read the docstrings' ``Example:`` and grouped arguments as above."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != "xploss":
            return
        module = importlib.import_module("xploss")
        for name in module.__all__:
            member = pkg.get_member(name)
            target = member.final_target if member.is_alias else member
            if isinstance(target, griffe.Function):
                target.parameters = _parameters(getattr(module, name))
        _single_score_classes(pkg)
        _docstrings(pkg)
