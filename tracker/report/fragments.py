"""Pieces of a report kept from one report to the next, by the statuses they were made from.

An incremental evaluation (tracker.status.incremental) hands the next run the very same Status
objects for every target and region whose figures did not change. A report's data made from
such a status (a card's, a cell and a row of the by-region table: tracker.report.build) is then
the same, so it is made once and reused, by the other reports of the run and by the next run.
Those pieces are found by the identity of the objects they were made from, which they hold (an
id is never reused while its object lives), plus everything else they depend on (language,
date, regions, limits). HTML pieces (tracker.report.render) are found by their data itself, as
JSON: a card whose status is new but says the same renders to the same HTML.

A piece that says where it sits in the report (`data-json="sections.0.items.3.title"`) is made
with a placeholder for its position and given its place when it is put in, so a card that moved
because another one changed status is still the same piece.

What a run does not ask for again is dropped at the next: each round (one evaluation) keeps the
pieces it used and those of the round before that it did not get to.
"""

import weakref
from collections.abc import Callable, Hashable
from typing import Any

SLOT = "\x00slot\x00"  # where a piece's position goes (never in a status' text: control character)


class Fragments:
    """See the module docstring. One per Tracker. The web app's threads share it: a piece,
    once made, never changes, so a race only makes one twice."""

    def __init__(self) -> None:
        self._now: dict[Hashable, tuple[tuple[Any, ...], Any]] = {}
        self._before: dict[Hashable, tuple[tuple[Any, ...], Any]] = {}
        self._round: Any = None  # a weak reference to the current round's token (its evaluation)
        self.made = 0  # pieces made and reused, for the benchmark and the tests
        self.reused = 0

    def round(self, token: Any) -> None:
        """Start a round (an evaluation) unless `token` is the current one: the pieces of the
        round before last are let go."""
        if self._round is None or self._round() is not token:  # held weakly: an evaluation is large
            self._before, self._now, self._round = self._now, {}, weakref.ref(token)

    def get(self, sources: tuple[Any, ...], extra: Hashable, make: Callable[[], Any]) -> Any:
        """The piece made from the objects `sources` and the values `extra`, made by `make()`
        the first time."""
        key = (tuple(map(id, sources)), extra)
        found = self._now.get(key)
        if found is None:
            found = self._before.pop(key, None)
            if found is not None:
                self._now[key] = found
        if found is not None and all(a is b for a, b in zip(found[0], sources)):
            self.reused += 1
            return found[1]
        value = make()
        self._now[key] = (sources, value)
        self.made += 1
        return value
