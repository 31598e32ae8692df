"""Read YAML fast for validation: PyYAML's safe loader on libyaml's C parser, resolving plain
scalars exactly as ruamel's round-trip loader does (YAML 1.2: `yes`, `on` and `7:30` stay
strings), and refusing (`NotFast`) whatever it might read differently from it: duplicate or
merge keys, timestamps, tags beyond the basic ones, numbers not written in plain decimal, a
`%YAML` directive. The round-trip loader (app.catalogue.loader) then reads the text instead.

Round-trip reading keeps every line and comment and takes about 1.3 s for procedures.yaml with
the portal's records; this takes about 0.1 s. It gives no lines: the loader reads a text
round-trip again only when it is invalid, so that every problem names its line.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ruamel.yaml.resolver import implicit_resolvers
from yaml.nodes import MappingNode, Node, ScalarNode

try:  # libyaml's C parser, in PyYAML's wheels; the pure-Python one reads the same, slower
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class NotFast(Exception):
    """The fast reading might differ from the round-trip one, or the text does not parse."""


_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?\Z|[-+]?[0-9]+[eE][-+]?[0-9]+\Z")


class _Loader(_SafeLoader):
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):
            raise NotFast("not a mapping")
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise NotFast("merge key")
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in mapping
            except TypeError as exc:
                raise NotFast("unhashable key") from exc
            if duplicate:
                raise NotFast("duplicate key")  # round-trip reading refuses it, with its line
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_int(self, node: ScalarNode) -> int:
        value = str(self.construct_scalar(node))
        if not _DECIMAL.match(value):
            raise NotFast(f"int {value!r}")
        return int(value)

    def construct_float(self, node: ScalarNode) -> float:
        value = str(self.construct_scalar(node))
        if not _FLOAT.match(value):
            raise NotFast(f"float {value!r}")
        return float(value)

    def construct_unusual(self, node: Node) -> Any:
        raise NotFast(f"tag {node.tag}")


# Plain scalars resolve by ruamel's YAML 1.2 rules, the ones its round-trip loader applies.
_Loader.yaml_implicit_resolvers = {}
for _versions, _tag, _regexp, _first in implicit_resolvers:
    if (1, 2) in _versions:
        _Loader.add_implicit_resolver(_tag, _regexp, _first)
_Loader.yaml_constructors = dict(_SafeLoader.yaml_constructors)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_float)
for _name in ("timestamp", "omap", "pairs", "set", "binary", "value", "merge"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_name}", _Loader.construct_unusual)
_Loader.add_constructor(None, _Loader.construct_unusual)  # any other tag

_handed_on: tuple[str, Any] | None = None
_handed_on_lock = threading.Lock()


def fast_load(text: str, *, hand_on: bool = False) -> Any:
    """`text` as plain dicts, lists and scalars, equal to what the round-trip loader reads;
    NotFast when that is not certain or the text does not parse (the round-trip loader then
    reads it, and reports any syntax error with its line).

    `hand_on=True` keeps the result for the next call with the same text (one save's editor
    reads its new text, then the store validates it: one parse). The data is shared, so
    callers only read it.
    """
    global _handed_on
    with _handed_on_lock:
        kept, _handed_on = _handed_on, None
    data = kept[1] if kept is not None and kept[0] == text else _parse(text)
    if hand_on:
        with _handed_on_lock:
            _handed_on = (text, data)
    return data


def _parse(text: str) -> Any:
    if text.startswith("%") or "\n%" in text:
        raise NotFast("a directive")  # `%YAML 1.1` would change how scalars resolve
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except NotFast:
        raise
    except Exception as exc:  # a syntax error, or a value the constructors cannot build
        raise NotFast(str(exc)) from exc
    finally:
        loader.dispose()
