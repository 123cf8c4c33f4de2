"""Type checks of option dataclasses, so a config file's ``lr: 1e-3`` (a string in YAML) or a bare
``features: degree`` fails with the option named instead of deep inside training."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections import abc
from typing import Any


def check_fields(instance: Any) -> None:
    """Check every field of a dataclass instance against its annotation, in place.

    ``int`` refuses booleans and floats, ``float`` takes ints (converted), ``tuple[str, ...]``
    and ``Sequence[str]`` take a list or tuple of strings (kept as a tuple) but not a bare string,
    ``X | None`` takes ``None``.

    >>> @dataclasses.dataclass
    ... class Options:
    ...     hidden: int = 64
    ...     lr: float = 1e-3
    ...     features: tuple[str, ...] = ("degree",)
    >>> check_fields(Options(lr=1))
    >>> check_fields(Options(features="degree"))
    Traceback (most recent call last):
    ...
    ValueError: option features must be a list of strings, got 'degree'
    """
    hints = typing.get_type_hints(type(instance))
    for field in dataclasses.fields(instance):
        value = getattr(instance, field.name)
        setattr(instance, field.name, _checked(field.name, value, hints[field.name]))


def _checked(name: str, value: Any, annotation: Any) -> Any:
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    options = typing.get_args(annotation) if union else (annotation,)
    for option in options:
        if option is type(None) and value is None:
            return None
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if option is str and isinstance(value, str):
            return value
        if (
            typing.get_origin(option) in (tuple, abc.Sequence)
            and isinstance(value, (list, tuple))
            and all(isinstance(item, str) for item in value)
        ):
            return tuple(value)
    raise ValueError(f"option {name} must be {' or '.join(map(_describe, options))}, got {value!r}")


def _describe(option: Any) -> str:
    if typing.get_origin(option) in (tuple, abc.Sequence):
        return "a list of strings"
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string", type(None): "null"}
    return names.get(option, str(option))
