"""Flows as values: each flow module hands over one ``Flow``; the ``Router`` merges them once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

from storage.models import Role

if TYPE_CHECKING:
    from bot.core.context import Ctx

StepHandler = Callable[["Ctx"], None]
# Offered a sent file of a kind ("sheet", "document", "" when unknown) that the current step
# does not read; takes it (and answers) or returns False for the next flow to try.
FileTaker = Callable[["Ctx", str], bool]
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
    # Who may be in this step, checked before every input and every prompt (a role taken
    # away or a chat unlinked closes it at once); () leaves it to the step (contacts' steps
    # check their enterprise themselves).
    roles: tuple[Role, ...] = ()
    files: tuple[str, ...] = ()  # kinds of sent file this step reads itself


@dataclass(frozen=True)
class Flow:
    """What one flow answers: its steps, its slash commands, its main-menu entries, and the
    choices it reads in any step (keyed by prefix, as "lang" reads "lang:en")."""

    name: str
    steps: tuple[Step, ...] = ()
    commands: Mapping[str, StepHandler] = field(default_factory=dict)
    menu: Mapping[str, StepHandler] = field(default_factory=dict)
    choices: Mapping[str, StepHandler] = field(default_factory=dict)
    file_takers: tuple[FileTaker, ...] = ()  # a file sent in another step, taken by content


class Router:
    """Every flow's parts in one lookup, built once; a name two flows claim is refused at start."""

    def __init__(self, flows: Iterable[Flow]) -> None:
        self.flows = tuple(flows)
        self.steps: Mapping[str, Step] = _merge(
            "step", ((f.name, s.name, s) for f in self.flows for s in f.steps)
        )
        self.commands = _merge("command", _entries(self.flows, "commands"))
        self.menu = _merge("menu entry", _entries(self.flows, "menu"))
        self.choices = _merge("choice prefix", _entries(self.flows, "choices"))
        self.file_takers = tuple(take for f in self.flows for take in f.file_takers)
        if MAIN_MENU not in self.steps:
            raise ValueError("no flow provides the main menu step")

    def step(self, name: str) -> Step:
        """The step of that name; an unknown one (a step since removed) is the main menu."""
        return self.steps.get(name) or self.steps[MAIN_MENU]


def _entries(flows: Iterable[Flow], part: str) -> Iterable[tuple[str, str, StepHandler]]:
    """(flow, key, handler) of one part (commands, menu or choices) of every flow."""
    for flow in flows:
        entries: Mapping[str, StepHandler] = getattr(flow, part)
        for key, handler in entries.items():
            yield flow.name, key, handler


def _merge(what: str, entries: Iterable[tuple[str, str, T]]) -> Mapping[str, T]:
    """One read-only mapping of every flow's entries; a key given twice is an error."""
    merged: dict[str, T] = {}
    owner: dict[str, str] = {}
    for flow, key, value in entries:
        if key in merged:
            raise ValueError(f"{what} {key!r} is claimed by flows {owner[key]} and {flow}")
        merged[key], owner[key] = value, flow
    return MappingProxyType(merged)
