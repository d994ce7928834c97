"""What a status is: a judgement (a status code and its figures) and, made from it, the reason a
person reads in Chinese or English.

Rules (tracker.status.rules, tracker.status.milestones) return a `Judgement`; the sentences are
written in one place (tracker.status.reasons) from its code and figures, so any surface can
re-word the same judgement. A `Status` words itself on first use of `reason_zh`/`reason_en`:
a national evaluation makes tens of thousands of statuses and most reasons are never read.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# code -> (Chinese label, English label, severity for sorting: lower is worse)
STATUS_LABELS: dict[str, tuple[str, str, int]] = {
    "overdue": ("逾期未完成", "overdue", 0),
    "lagging": ("进度滞后", "lagging", 1),
    "due_soon": ("临期", "due soon", 2),
    "no_data": ("未报送", "no data", 3),
    "stale": ("数据过期", "stale", 4),
    "on_track": ("进展正常", "on track", 5),
    "not_started": ("未启动", "not started", 5),
    "in_progress": ("推进中", "in progress", 6),
    "achieved_late": ("逾期完成", "achieved late", 7),
    "achieved": ("已完成", "achieved", 8),
    "done": ("已完成", "done", 8),
}

# Statuses that count a target as met.
MET_CODES = ("achieved", "achieved_late", "done")


@dataclass(slots=True)
class Judgement:
    """A rule's verdict: a key of STATUS_LABELS and the figures behind it (numbers, periods,
    region codes), with no sentence in it."""

    code: str
    figures: dict[str, Any] = field(default_factory=dict)


# (status, lang) -> the reason in that language
Wording = Callable[["Status", str], str]


class Status:
    """One target's or milestone's standing as of a date (for one region, or the whole).

    `reason_zh` and `reason_en` are either given (a stored run, a test) or worded from the code
    and figures by `words` when first read.
    """

    __slots__ = ("_reason_en", "_reason_zh", "_words", "as_of", "code", "figures", "item_id", "kind",
                 "region", "regions", "soft")

    def __init__(self, item_id: str, kind: str, code: str, reason_zh: str | None = None,
                 reason_en: str | None = None, as_of: str = "", region: str | None = None,
                 figures: dict[str, Any] | None = None, regions: list["Status"] | None = None,
                 soft: bool = False, words: Wording | None = None) -> None:
        self.item_id = item_id  # the target's or milestone's id in targets.yaml
        self.kind = kind  # "target" or "milestone"
        self.code = code  # a key of STATUS_LABELS
        self.as_of = as_of  # ISO date
        self.region = region  # region code; None for the plan's whole area
        self.figures = figures if figures is not None else {}
        self.regions = regions if regions is not None else []  # per-region detail (each_region)
        self.soft = soft  # a 力争/原则上 target: a miss is reported but flagged as soft
        self._reason_zh = reason_zh
        self._reason_en = reason_en
        self._words = words

    @property
    def reason_zh(self) -> str:
        """A sentence a person can act on, in Chinese."""
        if self._reason_zh is None:
            self._reason_zh = self._words(self, "zh") if self._words else ""
        return self._reason_zh

    @property
    def reason_en(self) -> str:
        if self._reason_en is None:
            self._reason_en = self._words(self, "en") if self._words else ""
        return self._reason_en

    @property
    def judgement(self) -> Judgement:
        return Judgement(self.code, self.figures)

    @property
    def label_zh(self) -> str:
        return STATUS_LABELS[self.code][0]

    @property
    def label_en(self) -> str:
        return STATUS_LABELS[self.code][1]

    @property
    def severity(self) -> int:
        return STATUS_LABELS[self.code][2]

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def reason(self, lang: str = "zh") -> str:
        return self.reason_zh if lang == "zh" else self.reason_en

    @property
    def met(self) -> bool:
        return self.code in MET_CODES

    def display_label(self, lang: str = "zh") -> str:
        """The label, marked when a soft target is missed ("逾期未完成（力争）")."""
        if self.soft and not self.met:
            return f"{self.label_zh}（力争）" if lang == "zh" else f"{self.label_en} (soft)"
        return self.label(lang)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for --json, the report and stored runs)."""
        return {
            "item_id": self.item_id, "kind": self.kind, "code": self.code,
            "label_zh": self.label_zh, "label_en": self.label_en, "soft": self.soft,
            "region": self.region, "as_of": self.as_of,
            "reason_zh": self.reason_zh, "reason_en": self.reason_en,
            "figures": self.figures, "regions": [r.to_dict() for r in self.regions],
        }

    def _key(self) -> tuple:
        return (self.item_id, self.kind, self.code, self.reason_zh, self.reason_en, self.as_of,
                self.region, self.figures, self.regions, self.soft)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Status):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaced

    def __repr__(self) -> str:
        return (f"Status(item_id={self.item_id!r}, kind={self.kind!r}, code={self.code!r}, "
                f"as_of={self.as_of!r}, region={self.region!r}, figures={self.figures!r}, "
                f"regions=[{len(self.regions)}], soft={self.soft!r})")


def worst_first(statuses: Iterable[Status]) -> list[Status]:
    """Statuses ordered for a reader: the worst first, then by id."""
    return sorted(statuses, key=lambda s: (s.severity, s.item_id, s.region or ""))
