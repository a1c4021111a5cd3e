"""Consolidation of one requirement's reports for one period over the union hierarchy.

Inputs, all passed in (computed elsewhere, no I/O here):
- a ``HierarchySnapshot``: the hierarchy **as it stood on the period's as-of date** (child → parent,
  names, kinds). After a reorganisation a unit is consolidated under the parent it had then, not
  today's. ``HierarchySnapshot.from_history`` builds one from effective-dated unit versions;
- the expected units (who had to report), e.g. ``snapshot.units_of_kinds(...)`` under the issuer;
- the submissions (unit → values, status, on-time flag).

The counting rule is explicit (``CountingRule``): by default only **accepted** reports count, for
completeness and for the figures alike; ``ACCEPTED_OR_SUBMITTED`` also counts reports received but
not yet reviewed. A returned report never counts: its unit is missing until it resubmits.

Further rules:
- a report states its own unit's activity, never its subtree's; only reports of *expected* units
  are summed (a report from a unit that was not expected, or not in the snapshot, is set aside in
  ``ignored`` and never double-counted);
- number fields are summed per subtree; shares are recomputed from the rolled-up sums at every
  node, never averaged;
- narrative sections are gathered per direct child unit of the node asked for.

Performance: no per-node recursion, no dicts of dicts. The snapshot keeps flat arrays (parent
index, children in CSR form, one iterative preorder, subtree sizes from one reverse pass), so a
subtree is one contiguous range of preorder positions. ``consolidate`` makes one pass over the
expected units and one over the submissions, writing a one-byte state per position, then reads
the counted reports into one tuple per number field (``operator.itemgetter``, in arrival order for
memory locality), permuted into preorder (``itertools.compress``), all in C. A node's counters are ``bytearray.count`` over its range, its
sums ``sum`` over a ``bisect`` slice, its missing units a slice: computed on demand, C-speed,
O(subtree). Shares are computed from those sums. 130,000 units: a few tenths of a second for
snapshot + consolidation + national queries (``python -m bench.consolidation``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from itertools import compress
from operator import itemgetter
from typing import Any, NamedTuple

from services.reports.domain.forms import FormDefinition, ShareField

# ------------------------------------------------------------------------------------------ hierarchy


class HierarchyError(ValueError):
    """The snapshot is not a forest (unknown parent, cycle, conflicting versions…)."""


@dataclass(frozen=True, slots=True)
class UnitVersion:
    """One effective-dated state of a unit: its name, kind and parent from ``valid_from``
    (inclusive) until ``valid_to`` (exclusive; None = still valid)."""

    unit_id: str
    name: str
    kind: str
    parent_id: str | None
    valid_from: date
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class HierarchySnapshot:
    """The union hierarchy on one day, as flat arrays indexed 0..n-1.

    ``parent[i]`` is the index of the parent (-1 for a root); ``pre`` is a preorder of all units,
    ``tin[i]`` the position of unit i in it and ``size[i]`` the size of its subtree, so the subtree
    of i is ``pre[tin[i] : tin[i] + size[i]]``."""

    __slots__ = ("as_of", "ids", "names", "kinds", "codes", "parent", "index", "roots", "pre", "tin", "size",
                 "child_start", "child_idx", "ids_pre")

    def __init__(self, ids: list[str], parent_ids: list[str | None], names: list[str] | None = None,
                 kinds: list[str] | None = None, as_of: date | None = None, codes: list[str] | None = None) -> None:
        n = len(ids)
        self.as_of = as_of
        self.ids = ids
        self.names = names if names is not None else list(ids)
        self.kinds = kinds if kinds is not None else [""] * n
        self.codes = codes if codes is not None else list(ids)  # the units' codes, as people write them
        if len(self.names) != n or len(self.kinds) != n or len(self.codes) != n or len(parent_ids) != n:
            raise HierarchyError("Danh sách mã, đơn vị cấp trên, tên, loại và ký hiệu đơn vị phải dài bằng nhau.")
        index = dict(zip(ids, range(n)))
        if len(index) != n:
            seen: set[str] = set()
            dup = next(u for u in ids if u in seen or seen.add(u))  # type: ignore[func-returns-value]
            raise HierarchyError(f"Đơn vị {dup} xuất hiện hai lần trong cây tổ chức.")
        self.index = index
        get = index.get
        parent = [get(pid, -2) if pid is not None else -1 for pid in parent_ids]
        if -2 in parent:
            i = parent.index(-2)
            raise HierarchyError(f"Đơn vị {ids[i]} trực thuộc {parent_ids[i]}, đơn vị không có trong cây tổ chức"
                                 + (f" ngày {as_of:%d/%m/%Y}" if as_of else "") + ".")
        self.parent = parent
        roots = [i for i, p in enumerate(parent) if p < 0]
        self.roots = roots
        # children in CSR form: child_idx[child_start[p]:child_start[p+1]], in input order
        counts = [0] * (n + 1)
        for p in parent:
            counts[p + 1] += 1  # roots (-1) land in counts[0], reset below
        counts[0] = 0
        for p in range(n):
            counts[p + 1] += counts[p]
        child_start = counts
        fill = child_start[:-1]
        child_idx = [0] * (n - len(roots))
        for i, p in enumerate(parent):
            if p >= 0:
                child_idx[fill[p]] = i
                fill[p] += 1
        self.child_start, self.child_idx = child_start, child_idx
        # preorder, iteratively (children pushed in reverse so that they come out in input order)
        pre: list[int] = []
        append = pre.append
        stack = roots[::-1]
        pop, extend = stack.pop, stack.extend
        while stack:
            i = pop()
            append(i)
            s, e = child_start[i], child_start[i + 1]
            if s != e:
                extend(child_idx[e - 1:s - 1:-1] if s else child_idx[e - 1::-1])
        if len(pre) != n:
            visited = set(pre)
            stuck = [ids[i] for i in range(n) if i not in visited][:5]
            raise HierarchyError(f"Quan hệ cấp trên tạo thành vòng lặp (các đơn vị {', '.join(stuck)}…).")
        self.pre = pre
        tin = [0] * n
        for k, i in enumerate(pre):
            tin[i] = k
        self.tin = tin
        size = [1] * n
        for i in reversed(pre):  # children before parents
            p = parent[i]
            if p >= 0:
                size[p] += size[i]
        self.size = size
        self.ids_pre = [ids[i] for i in pre]

    # --- builders

    @classmethod
    def from_parents(cls, parents: Mapping[str, str | None], names: Mapping[str, str] | None = None,
                     kinds: Mapping[str, str] | None = None, as_of: date | None = None) -> HierarchySnapshot:
        ids = list(parents)
        return cls(ids, [parents[u] for u in ids], [names.get(u, u) for u in ids] if names else None,
                   [kinds.get(u, "") for u in ids] if kinds else None, as_of)

    @classmethod
    def from_units(cls, units: Iterable[Any], as_of: date | None = None) -> HierarchySnapshot:
        """From objects with ``unit_id, name, kind, parent_id`` (e.g. ``DirectoryUnit``)."""
        ids, parents, names, kinds = [], [], [], []
        for u in units:
            ids.append(u.unit_id)
            parents.append(u.parent_id)
            names.append(u.name)
            kinds.append(str(u.kind))
        return cls(ids, parents, names, kinds, as_of)

    @classmethod
    def from_history(cls, versions: Iterable[UnitVersion], as_of: date) -> HierarchySnapshot:
        """The hierarchy as it stood on ``as_of``: each unit in the version valid that day; units
        created later or dissolved before are absent; moved units sit under their parent of then."""
        chosen: dict[str, UnitVersion] = {}
        for v in versions:
            if v.valid_on(as_of):
                if v.unit_id in chosen:
                    raise HierarchyError(f"Đơn vị {v.unit_id} có hai phiên bản cùng hiệu lực ngày {as_of:%d/%m/%Y}.")
                chosen[v.unit_id] = v
        return cls.from_units(chosen.values(), as_of)

    # --- queries

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self.index

    def i(self, unit_id: str) -> int:
        try:
            return self.index[unit_id]
        except KeyError:
            on = f" on {self.as_of.isoformat()}" if self.as_of else ""
            raise KeyError(f"unit {unit_id} is not in the hierarchy{on}") from None

    def code(self, unit_id: str) -> str:
        return self.codes[self.i(unit_id)]

    def parent_of(self, unit_id: str) -> str | None:
        p = self.parent[self.i(unit_id)]
        return None if p < 0 else self.ids[p]

    def children(self, unit_id: str) -> list[str]:
        i = self.i(unit_id)
        return [self.ids[c] for c in self.child_idx[self.child_start[i]:self.child_start[i + 1]]]

    def subtree(self, unit_id: str) -> list[str]:
        """The unit and all its descendants, in preorder."""
        i = self.i(unit_id)
        ids = self.ids
        return [ids[j] for j in self.pre[self.tin[i]:self.tin[i] + self.size[i]]]

    def path(self, unit_id: str) -> list[str]:
        """From the root down to the unit."""
        out, i = [], self.i(unit_id)
        while i >= 0:
            out.append(self.ids[i])
            i = self.parent[i]
        return out[::-1]

    def is_within(self, unit_id: str, ancestor_id: str) -> bool:
        i, a = self.i(unit_id), self.i(ancestor_id)
        return self.tin[a] <= self.tin[i] < self.tin[a] + self.size[a]

    def units_of_kinds(self, kinds: Iterable[str], under: str | None = None, *,
                       include_self: bool = False) -> list[str]:
        """Units of the given kinds in the subtree of ``under`` (all units when None), in preorder:
        the usual set of units expected to report to an issuer."""
        wanted = {str(k) for k in kinds}
        kinds_, ids = self.kinds, self.ids
        if under is None:
            seq = self.pre
        else:
            a = self.i(under)
            start = self.tin[a] + (0 if include_self else 1)
            seq = self.pre[start:self.tin[a] + self.size[a]]
        return [ids[j] for j in seq if kinds_[j] in wanted]


# -------------------------------------------------------------------------------------- submissions


class ReportStatus(StrEnum):
    SUBMITTED = "submitted"  # received, not yet reviewed
    ACCEPTED = "accepted"  # reviewed and accepted by the receiving unit
    RETURNED = "returned"  # sent back for correction; missing until resubmitted


class Submission(NamedTuple):
    """A unit's latest report for the requirement and period. ``values`` are the cleaned values of
    the form (``FormDefinition.clean``); ``on_time`` is judged against the due date in Vietnamese
    local time (``model.is_on_time``). A named tuple: a national consolidation reads 120,000 (a
    frozen dataclass takes three times as long to build)."""

    unit_id: str
    values: Mapping[str, Any]
    status: ReportStatus = ReportStatus.SUBMITTED
    on_time: bool = True
    submitted_at: datetime | None = None

    @classmethod
    def from_report(cls, report: Any, status: ReportStatus = ReportStatus.SUBMITTED) -> Submission:
        """From a stored ``model.Report`` (which carries no review status yet: pass it)."""
        return cls(report.unit_id, report.values, status, report.on_time, report.submitted_at)


@dataclass(frozen=True)
class CountingRule:
    """Which reports count, for completeness and for the figures alike."""

    counted: frozenset[ReportStatus] = frozenset({ReportStatus.ACCEPTED})

    def counts(self, status: ReportStatus | str) -> bool:
        return status in self.counted

    @property
    def description(self) -> str:
        if self.counted == {ReportStatus.ACCEPTED}:
            return ("Chỉ tính báo cáo đã được tiếp nhận / only accepted reports count")
        if self.counted == {ReportStatus.ACCEPTED, ReportStatus.SUBMITTED}:
            return ("Tính báo cáo đã gửi và đã được tiếp nhận (trừ báo cáo bị trả lại) / "
                    "submitted and accepted reports count (returned ones do not)")
        return "Tính báo cáo có trạng thái / reports count with status: " + ", ".join(sorted(self.counted))


ACCEPTED_ONLY = CountingRule()
ACCEPTED_OR_SUBMITTED = CountingRule(frozenset({ReportStatus.ACCEPTED, ReportStatus.SUBMITTED}))

# own state of a unit (one byte per unit)
_NOT_EXPECTED, _MISSING, _COUNTED_ON_TIME, _COUNTED_LATE, _RETURNED, _PENDING = range(6)
MISSING_REASONS = {
    "not_submitted": ("Chưa gửi báo cáo", "not submitted"),
    "returned": ("Báo cáo bị trả lại, chưa gửi lại", "returned, not resubmitted"),
    "pending": ("Đã gửi, chưa được tiếp nhận", "submitted, not yet accepted"),
}
_REASON_OF_STATE = {_MISSING: "not_submitted", _RETURNED: "returned", _PENDING: "pending"}


# ------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class Completeness:
    expected: int
    submitted: int  # counted reports (see the counting rule)
    on_time: int
    late: int
    missing: int  # expected - submitted
    returned: int  # of the missing: returned for correction
    pending: int  # of the missing: received but not counted (not yet accepted)
    missing_units: tuple[str, ...]

    @property
    def submitted_rate(self) -> float | None:
        return self.submitted / self.expected if self.expected else None

    @property
    def on_time_rate(self) -> float | None:
        """On-time reports among the expected ones."""
        return self.on_time / self.expected if self.expected else None


@dataclass(frozen=True)
class NodeReport:
    unit_id: str
    name: str
    kind: str
    completeness: Completeness
    indicators: dict[str, int | float | None]  # sums of number fields, shares (fraction or None)
    own_status: str | None  # this unit's own report: on_time | late | returned | pending | missing | None


@dataclass(frozen=True)
class MissingUnit:
    unit_id: str
    name: str
    kind: str
    parent_id: str | None
    parent_name: str | None
    reason: str  # not_submitted | returned | pending

    @property
    def reason_vi(self) -> str:
        return MISSING_REASONS[self.reason][0]


@dataclass(frozen=True)
class NarrativeItem:
    unit_id: str
    name: str
    text: str


@dataclass(frozen=True)
class ChildNarratives:
    """Narratives of one direct child unit's subtree (or of the node's own report, first)."""

    unit_id: str
    name: str
    kind: str
    own: bool  # True for the node's own report
    sections: dict[str, list[NarrativeItem]]  # text field key → items, in preorder


@dataclass(frozen=True)
class IgnoredSubmission:
    unit_id: str
    reason: str


class Consolidation:
    """Completeness, timeliness and figures of any node of the snapshot, computed on demand.

    Everything is kept in preorder positions, where a subtree is one contiguous range: the own
    state of each unit is one byte (``bytearray.count`` over the range gives the counters), the
    counted reports are a list sorted by position with one tuple per number field (``sum`` over
    the ``bisect`` range gives the figures), and the missing units a list of ids by position."""

    def __init__(self, form: FormDefinition, snapshot: HierarchySnapshot, rule: CountingRule,
                 state: bytearray, counted_pos: list[int], counted_values: list[Mapping[str, Any]],
                 columns: dict[str, tuple], missing_pos: list[int], missing_ids: list[str],
                 ignored: list[IgnoredSubmission], warnings: list[str], root: str | None,
                 requirement_id: str | None, period: str | None) -> None:
        self.form, self.snapshot, self.rule = form, snapshot, rule
        self._state = state  # own state by preorder position
        self._counted_pos, self._counted_values, self._cols = counted_pos, counted_values, columns
        self._missing_pos, self._missing_ids = missing_pos, missing_ids
        self.ignored = tuple(ignored)
        self.warnings = tuple(warnings)
        self.root = root
        self.requirement_id, self.period = requirement_id, period
        self._missing_of: dict[str | None, tuple[MissingUnit, ...]] = {}

    def _span(self, unit_id: str | None) -> tuple[int, int, int]:
        """(index, first preorder position, end position) of the node's subtree."""
        if unit_id is None:
            if self.root is None:
                raise ValueError("the snapshot has several roots: name the unit")
            unit_id = self.root
        s = self.snapshot
        i = s.i(unit_id)
        lo = s.tin[i]
        return i, lo, lo + s.size[i]

    def indicators(self, unit_id: str | None = None) -> dict[str, int | float | None]:
        """Sums of the number fields over the subtree; shares recomputed from those sums."""
        _, lo, hi = self._span(unit_id)
        a, b = bisect_left(self._counted_pos, lo), bisect_left(self._counted_pos, hi)
        sums = {k: sum(col[a:b]) for k, col in self._cols.items()}
        out: dict[str, int | float | None] = {}
        for f in self.form.indicator_fields:
            if isinstance(f, ShareField):
                out[f.key] = f.compute(sums[f.numerator], sums[f.denominator])
            else:
                out[f.key] = sums[f.key]
        return out

    def completeness(self, unit_id: str | None = None) -> Completeness:
        _, lo, hi = self._span(unit_id)
        seg = self._state[lo:hi]
        on_time, late = seg.count(_COUNTED_ON_TIME), seg.count(_COUNTED_LATE)
        expected = len(seg) - seg.count(_NOT_EXPECTED)
        a, b = bisect_left(self._missing_pos, lo), bisect_left(self._missing_pos, hi)
        return Completeness(expected=expected, submitted=on_time + late, on_time=on_time, late=late,
                            missing=expected - on_time - late, returned=seg.count(_RETURNED),
                            pending=seg.count(_PENDING), missing_units=tuple(self._missing_ids[a:b]))

    def own_status(self, unit_id: str) -> str | None:
        """This unit's own report: on_time | late | returned | pending | missing, None when the unit
        was not expected to report."""
        _, lo, _ = self._span(unit_id)
        return _OWN_STATUS[self._state[lo]]

    def node(self, unit_id: str | None = None) -> NodeReport:
        i, lo, _ = self._span(unit_id)
        s = self.snapshot
        uid = s.ids[i]
        return NodeReport(unit_id=uid, name=s.names[i], kind=s.kinds[i], completeness=self.completeness(uid),
                          indicators=self.indicators(uid), own_status=_OWN_STATUS[self._state[lo]])

    def children(self, unit_id: str | None = None, *, only_expected: bool = True) -> list[NodeReport]:
        """Reports of the direct children (in snapshot order); by default only the children whose
        subtree had to report."""
        i, _, _ = self._span(unit_id)
        s = self.snapshot
        out = []
        for c in s.child_idx[s.child_start[i]:s.child_start[i + 1]]:
            lo = s.tin[c]
            if only_expected and self._state[lo:lo + s.size[c]].count(_NOT_EXPECTED) == s.size[c]:
                continue
            out.append(self.node(s.ids[c]))
        return out

    def missing_ids(self, unit_id: str | None = None) -> list[str]:
        """Expected units of the subtree whose report does not count, in preorder."""
        _, lo, hi = self._span(unit_id)
        return self._missing_ids[bisect_left(self._missing_pos, lo):bisect_left(self._missing_pos, hi)]

    def missing(self, unit_id: str | None = None) -> list[MissingUnit]:
        """The missing units with their parent and why they are missing (for reminders, đôn đốc).
        Made once per node (the reply, the DOCX and the XLSX of a consolidation each list them)."""
        made = self._missing_of.get(unit_id)
        if made is None:
            made = self._missing_of[unit_id] = tuple(self._make_missing(unit_id))
        return list(made)

    def _make_missing(self, unit_id: str | None) -> list[MissingUnit]:
        _, lo, hi = self._span(unit_id)
        s = self.snapshot
        ids, names, kinds, parent, pre = s.ids, s.names, s.kinds, s.parent, s.pre
        out = []
        for k in self._missing_pos[bisect_left(self._missing_pos, lo):bisect_left(self._missing_pos, hi)]:
            j = pre[k]
            p = parent[j]
            out.append(MissingUnit(ids[j], names[j], kinds[j], ids[p] if p >= 0 else None,
                                   names[p] if p >= 0 else None, _REASON_OF_STATE[self._state[k]]))
        return out

    def narratives(self, unit_id: str | None = None, *, own_only: bool = False) -> list[ChildNarratives]:
        """Narrative sections of the counted reports, gathered per direct child unit of the node
        (the node's own report first). Groups without any text are left out. ``own_only``: each
        child's own report only, not its subtree's (each level's report speaks for its level; at
        national scale the subtrees hold a hundred thousand reports)."""
        i, lo, _ = self._span(unit_id)
        s = self.snapshot
        keys = [f.key for f in self.form.text_fields]
        groups: list[ChildNarratives] = []

        def gather(j: int, lo_pos: int, hi_pos: int, own: bool) -> None:
            a = bisect_left(self._counted_pos, lo_pos)
            b = bisect_left(self._counted_pos, hi_pos)
            sections: dict[str, list[NarrativeItem]] = {k: [] for k in keys}
            any_text = False
            for k, values in zip(self._counted_pos[a:b], self._counted_values[a:b]):
                u = s.pre[k]
                for key in keys:
                    text = values.get(key)
                    if isinstance(text, str) and text.strip():
                        sections[key].append(NarrativeItem(s.ids[u], s.names[u], text))
                        any_text = True
            if any_text:
                groups.append(ChildNarratives(s.ids[j], s.names[j], s.kinds[j], own, sections))

        if keys:
            gather(i, lo, lo + 1, True)
            for c in s.child_idx[s.child_start[i]:s.child_start[i + 1]]:
                gather(c, s.tin[c], s.tin[c] + (1 if own_only else s.size[c]), False)
        return groups


# ------------------------------------------------------------------------------------- consolidation


def consolidate(form: FormDefinition, snapshot: HierarchySnapshot, expected: Iterable[str],
                submissions: Iterable[Submission] | Mapping[str, Submission], *,
                rule: CountingRule = ACCEPTED_ONLY, root: str | None = None,
                requirement_id: str | None = None, period: str | None = None) -> Consolidation:
    """Consolidate the submissions of one requirement and period over ``snapshot``.

    ``expected``: ids of the units that had to report (all must be in the snapshot).
    ``submissions``: the latest submission of each unit (at most one per unit).
    ``rule``: which statuses count (default: accepted only).
    ``root``: the default node of the result's queries (the issuer); defaults to the single root.

    Cost: O(units + submissions) Python steps with small constants; the per-node figures are then
    C-speed slices (``bytearray.count``, ``sum``) over the node's preorder range."""
    n = len(snapshot)
    index, tin = snapshot.index, snapshot.tin
    state = bytearray(n)  # own state, by preorder position
    expected = list(expected)
    found = list(map(index.get, expected))
    if None in found:
        unknown = [u for u, i in zip(expected, found) if i is None]
        raise HierarchyError(f"{len(unknown)} đơn vị phải báo cáo không có trong cây tổ chức"
                             f"{f' ngày {snapshot.as_of:%d/%m/%Y}' if snapshot.as_of else ''}: "
                             + ", ".join(unknown[:5]) + ("…" if len(unknown) > 5 else "") + ".")
    for k in map(tin.__getitem__, found):  # type: ignore[arg-type]
        state[k] = _MISSING
    if root is None and len(snapshot.roots) == 1:
        root = snapshot.ids[snapshot.roots[0]]
    elif root is not None:
        snapshot.i(root)

    ignored: list[IgnoredSubmission] = []
    counted_statuses = rule.counted
    returned = ReportStatus.RETURNED
    arrival: list[Mapping[str, Any]] = []  # values of the counted reports, in the order they came
    at: list[int | None] = [None] * n  # by preorder position: index of the counted report in `arrival`
    seen = bytearray(n)
    items = submissions.values() if isinstance(submissions, Mapping) else submissions
    for sub in items:
        i = index.get(sub.unit_id)
        if i is None:
            ignored.append(IgnoredSubmission(sub.unit_id, "not in the hierarchy of the period / "
                                             "không thuộc cây tổ chức của kỳ báo cáo"))
            continue
        k = tin[i]
        if seen[k]:
            raise ValueError(f"two submissions for unit {sub.unit_id}: pass only the latest one")
        seen[k] = 1
        if not state[k]:
            ignored.append(IgnoredSubmission(sub.unit_id, "not expected to report / không thuộc diện phải báo cáo"))
        elif sub.status in counted_statuses:
            state[k] = _COUNTED_ON_TIME if sub.on_time else _COUNTED_LATE
            at[k] = len(arrival)
            arrival.append(sub.values)
        else:
            state[k] = _RETURNED if sub.status == returned else _PENDING

    positions = range(n)
    counted_mask = state.translate(_COUNTED_MASK)
    counted_pos = list(compress(positions, counted_mask))
    order: list[int] = list(compress(at, counted_mask))  # type: ignore[arg-type]  # arrival index by position
    counted_values = list(map(arrival.__getitem__, order))
    missing_mask = state.translate(_MISSING_MASK)
    missing_pos = list(compress(positions, missing_mask))
    missing_ids = list(compress(snapshot.ids_pre, missing_mask))
    warnings: list[str] = []
    columns = _number_columns(form, arrival, order, counted_pos, snapshot, warnings)
    return Consolidation(form, snapshot, rule, state, counted_pos, counted_values, columns, missing_pos,
                         missing_ids, ignored, warnings, root, requirement_id, period)


def _number_columns(form: FormDefinition, arrival: list[Mapping[str, Any]], order: list[int],
                    counted_pos: list[int], snapshot: HierarchySnapshot, warnings: list[str]) -> dict[str, tuple]:
    """One tuple per number field, aligned with the counted reports in preorder.

    Each column is read with ``itemgetter`` in C over the reports **in the order they came**
    (memory locality: reading 100k dicts in tree order costs two to three times more), then
    permuted into preorder. A column where some report lacks the (optional) field, or holds a
    non-number, takes the slow path: absent = 0, a non-number counts as 0 with a warning."""
    out: dict[str, tuple] = {}
    for f in form.number_fields:
        key = f.key
        try:
            col = tuple(map(itemgetter(key), arrival))
        except KeyError:
            col = tuple([v.get(key) for v in arrival])
        col = tuple(map(col.__getitem__, order))
        if not set(map(type, col)) <= _NUMBER_TYPES:
            fixed = []
            for k, v in zip(counted_pos, col):
                if type(v) not in _NUMBER_TYPES:
                    if v is not None:
                        warnings.append(f"unit {snapshot.ids_pre[k]}: field {key} holds {v!r}, counted as 0")
                    v = 0
                fixed.append(v)
            col = tuple(fixed)
        out[key] = col
    return out


_NUMBER_TYPES = {int, float}
_COUNTED_MASK = bytes(1 if b in (_COUNTED_ON_TIME, _COUNTED_LATE) else 0 for b in range(256))
_MISSING_MASK = bytes(1 if b in (_MISSING, _RETURNED, _PENDING) else 0 for b in range(256))
_OWN_STATUS = {_NOT_EXPECTED: None, _MISSING: "missing", _COUNTED_ON_TIME: "on_time", _COUNTED_LATE: "late",
               _RETURNED: "returned", _PENDING: "pending"}
