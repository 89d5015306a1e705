"""Flows as values: each flow module hands over one ``Flow``; the ``Router`` merges them once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from bot.core.context import Ctx

StepHandler = Callable[["Ctx"], None]
T = TypeVar("T")
MAIN_MENU = ""  # the step name of "no flow in progress": the main menu


@dataclass(frozen=True)
class Step:
    """A step of a flow: how it asks, how it reads the answer, and where /back leads."""

    name: str
    prompt: StepHandler
    handle: StepHandler
    back: str | Callable[[Ctx], str] | None = None  # a step, or a function choosing one
    free_text: bool = False  # typed numbers are values here (a figure, a row number), not choices


@dataclass(frozen=True)
class Flow:
    """What one flow answers: its steps, its slash commands, its main-menu entries, and the
    choices it reads in any step (keyed by prefix, as "lang" reads "lang:en")."""

    name: str
    steps: tuple[Step, ...] = ()
    commands: Mapping[str, StepHandler] = field(default_factory=dict)
    menu: Mapping[str, StepHandler] = field(default_factory=dict)
    choices: Mapping[str, StepHandler] = field(default_factory=dict)


class Router:
    """Every flow's parts in one lookup, built once; a name two flows claim is refused at start."""

    def __init__(self, flows: Iterable[Flow]) -> None:
        self.flows = tuple(flows)
        self.steps: Mapping[str, Step] = _merge(
            "step", ((f.name, {s.name: s for s in f.steps}) for f in self.flows)
        )
        self.commands = _merge("command", ((f.name, f.commands) for f in self.flows))
        self.menu = _merge("menu entry", ((f.name, f.menu) for f in self.flows))
        self.choices = _merge("choice prefix", ((f.name, f.choices) for f in self.flows))
        if MAIN_MENU not in self.steps:
            raise ValueError("no flow provides the main menu step")

    def step(self, name: str) -> Step:
        """The step of that name; an unknown one (a step since removed) is the main menu."""
        return self.steps.get(name) or self.steps[MAIN_MENU]


def _merge(what: str, parts: Iterable[tuple[str, Mapping[str, T]]]) -> Mapping[str, T]:
    """One read-only mapping of every flow's entries; the same key from two flows is an error."""
    merged: dict[str, T] = {}
    owner: dict[str, str] = {}
    for flow, entries in parts:
        for key, value in entries.items():
            if key in merged:
                raise ValueError(f"{what} {key!r} is claimed by flows {owner[key]} and {flow}")
            merged[key], owner[key] = value, flow
    return MappingProxyType(merged)
