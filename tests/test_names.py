"""Identifier conversion and the filters every spec string passes through."""

from __future__ import annotations

import ast
import random

import pytest

from roccogen.names import docstring, is_identifier, pascal, py_literal, snake


@pytest.mark.parametrize(
    ("text", "snake_name", "pascal_name"),
    [
        ("price-stream", "price_stream", "PriceStream"),
        ("PriceStream", "price_stream", "PriceStream"),
        ("CHANNEL_NOT_FOUND", "channel_not_found", "ChannelNotFound"),
        ("class", "class_", "Class"),
        ("9lives", "n9_lives", "N9Lives"),
        ("x.y-z", "x_y_z", "XYZ"),
        ("café au lait", "cafe_au_lait", "CafeAuLait"),
        ("!!!", "", ""),
    ],
)
def test_name_conversion(text, snake_name, pascal_name):
    assert snake(text) == snake_name
    assert pascal(text) == pascal_name
    if snake_name:
        assert is_identifier(snake_name)


def test_docstring_filter_round_trips_any_text():
    rng = random.Random(20261203)
    alphabet = ['"', "\\", " ", "\n", "'", "a", "\t", "\x00", "\u2028", "N"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        body = docstring(text)
        tree = ast.parse(f'def f():\n    """{body}"""\n')
        expected = "".join(c for c in text if c in "\n\t" or (c.isprintable() and c != "\x00")).strip()
        assert ast.get_docstring(tree.body[0], clean=False) == expected, repr(text)


def test_literals_round_trip():
    rng = random.Random(7)
    for _ in range(2000):
        value = "".join(rng.choice(['"', "'", "\\", "\n", "\r", "\x00", "{", "}", "é", "a"]) for _ in range(10))
        assert ast.literal_eval(py_literal(value)) == value
    for value in [None, True, 0, -3, 1.5, [1, "a"], {"k": [None]}]:
        assert ast.literal_eval(py_literal(value)) == value
    with pytest.raises(ValueError):
        py_literal(float("nan"))
