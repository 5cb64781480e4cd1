"""The emulator's modules stand in the layers its package docstring lists, in that order: each imports only
modules listed above it (so it reads top-down, and a new module has one obvious place), and none imports the
client side (two independent readings of the API)."""

from __future__ import annotations

import re

from cocalc_magics import emulator
from test_import_cycles import import_graph

PACKAGE = "cocalc_magics.emulator"


def documented_order() -> list[str]:
    return re.findall(r"^- ``(\w+)``", emulator.__doc__ or "", re.MULTILINE)


def emulator_imports() -> dict[str, set[str]]:
    """module -> the package modules it imports, both as full names, for the emulator's modules only."""
    return {name: targets for name, targets in import_graph().items() if name.startswith(PACKAGE + ".")}


def upward_imports(imports: dict[str, set[str]], order: list[str]) -> list[str]:
    """``a -> b`` for every import of a module listed at or below the importer (the package itself excepted)."""
    position = {module: index for index, module in enumerate(order)}
    found = []
    for name, targets in sorted(imports.items()):
        module = name.removeprefix(PACKAGE + ".")
        for target in sorted(targets):
            other = target.removeprefix(PACKAGE + ".")
            if target.startswith(PACKAGE + ".") and position.get(other, len(order)) >= position[module]:
                found.append(f"{module} -> {other}")
    return found


def test_every_emulator_module_is_listed_once_in_the_package_docstring():
    modules = sorted(name.removeprefix(PACKAGE + ".") for name in emulator_imports())
    assert sorted(documented_order()) == modules


def test_each_emulator_module_imports_only_modules_listed_above_it():
    assert upward_imports(emulator_imports(), documented_order()) == []


def test_the_layer_check_sees_an_upward_import():
    imports = {f"{PACKAGE}.low": {f"{PACKAGE}.high"}, f"{PACKAGE}.high": {f"{PACKAGE}.low", PACKAGE}}
    assert upward_imports(imports, ["low", "high"]) == ["low -> high"]


def test_the_emulator_imports_nothing_from_the_client_side():
    outside = {f"{name} -> {target}" for name, targets in emulator_imports().items() for target in targets
               if target != PACKAGE and not target.startswith(PACKAGE + ".")}
    assert outside == set()
