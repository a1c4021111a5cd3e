"""The organisation tree over time: which unit sat under which, on any date. Plain Python, no I/O.

Units move, merge and close (the 2025 reform merged provinces and abolished districts), yet
plans, reports and awards must keep their history. So a unit is never edited in place: it
has versions, each valid on a half-open range of local dates [valid_from, valid_to), and every
question is asked "as of" a date.

Rules, and why:
- A change "on D" holds from D: the old version ends at D (exclusive) and the new one starts at D.
- A unit's own history is written forwards: a change may not predate the unit's last change
  (rewriting the past is a correction, a different operation). Other units may have later
  changes already recorded, so a move is checked for cycles on every later date the ancestor
  chain changes, not only on D.
- A parent must be open-ended (not closed or merged later): otherwise a child would be left under
  a dead unit on some later date.
- Repeating an operation that already holds (same parent, same date…) is a no-op, so that
  retries are harmless; a conflicting repeat is an error.
- Unit kinds are not checked here (see model.check_parent); this module only knows ids and dates.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, replace
from datetime import date

from runtime import errors


class HierarchyError(errors.Conflict):
    """A change to the organisation tree broke a rule, or a query named a unit that is not there
    (409 unless the use case says otherwise; the message is Vietnamese)."""


def _d(day: date | None) -> str:
    return f"{day:%d/%m/%Y}" if day else "?"


# What a change is called in a message: "Không thể {verb} đơn vị …".
_VERBS = {"move": "chuyển", "close": "giải thể", "merge": "sáp nhập"}
_ROLES = {"parent": "Đơn vị cấp trên", "survivor": "Đơn vị tiếp nhận"}


@dataclass(frozen=True)
class UnitVersion:
    unit_id: str
    parent_id: str | None
    valid_from: date
    valid_to: date | None = None  # exclusive; None = still valid

    def covers(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on < self.valid_to)


@dataclass(frozen=True)
class _Snapshot:
    """The tree on one stretch of dates where nothing changes: built once, shared by many queries."""

    children: dict[str, list[str]]


# How many snapshots (one per stretch of unchanged dates) to keep: queries cluster on a few dates.
_SNAPSHOT_CACHE = 16


class Hierarchy:
    """An effective-dated union hierarchy held in memory."""

    def __init__(self) -> None:
        self._versions: dict[str, list[UnitVersion]] = {}
        self._ever_children: dict[str, set[str]] = {}  # parent -> every unit that ever had it as parent
        self._merged_into: dict[str, tuple[str, date]] = {}
        self._change_dates: set[date] = set()
        self._sorted_dates: list[date] | None = None
        self._snapshots: dict[int, _Snapshot] = {}

    @classmethod
    def from_versions(cls, versions: list[UnitVersion], merged: dict[str, tuple[str, date]] | None = None) -> Hierarchy:
        """Rebuild a hierarchy from stored versions (any order) and merges, without replaying the
        operations: what was stored was checked when it was written."""
        h = cls()
        for v in sorted(versions, key=lambda v: (v.unit_id, v.valid_from)):
            h._versions.setdefault(v.unit_id, []).append(v)
            if v.parent_id is not None:
                h._ever_children.setdefault(v.parent_id, set()).add(v.unit_id)
            h._change_dates.add(v.valid_from)
            if v.valid_to is not None:
                h._change_dates.add(v.valid_to)
        h._merged_into = dict(merged or {})
        return h

    # --- changes ---------------------------------------------------------------------------------

    def register(self, unit: str, parent: str | None, on: date) -> None:
        """Add a unit under ``parent`` (None for a root) from ``on``."""
        if unit in self._versions:
            first = self._versions[unit][0]
            if first.valid_from == on and first.parent_id == parent:
                return  # a retry
            where = f"trực thuộc {first.parent_id}" if first.parent_id else "là đơn vị cấp cao nhất"
            raise HierarchyError(f"Mã đơn vị {unit} đã được đăng ký (từ ngày {_d(first.valid_from)}, {where}); "
                                 f"mã đơn vị không được dùng lại.")
        if parent is not None:
            if parent == unit:
                raise HierarchyError(f"Đơn vị {unit} không thể trực thuộc chính nó.")
            self._require_open_parent(parent, on, child=unit)
        self._versions[unit] = [UnitVersion(unit, parent, on)]
        if parent is not None:
            self._ever_children.setdefault(parent, set()).add(unit)
        self._changed(on)

    def move(self, unit: str, new_parent: str | None, on: date) -> None:
        """Place ``unit`` (and its subtree) under ``new_parent`` from ``on``."""
        current = self._open_version_for_change(unit, on, "move")
        if current.parent_id == new_parent:
            return  # already there: nothing to record
        if new_parent is not None:
            if new_parent == unit:
                raise HierarchyError(f"Đơn vị {unit} không thể trực thuộc chính nó.")
            self._require_open_parent(new_parent, on, child=unit)
            cycle_on = self._cycle_date(unit, new_parent, on, None)
            if cycle_on is not None:
                raise HierarchyError(f"Chuyển {unit} về trực thuộc {new_parent} từ ngày {_d(on)} tạo thành vòng lặp: "
                                     f"ngày {_d(cycle_on)}, {new_parent} là đơn vị cấp dưới của {unit}.")
        self._set_parent_from(unit, new_parent, on)
        self._changed(on)

    def close(self, unit: str, on: date) -> None:
        """Dissolve ``unit`` from ``on`` (it existed until the day before). It must have no children then."""
        if self._already_ended(unit, on, merged_into=None):
            return
        self._open_version_for_change(unit, on, "close")
        self._check_can_end(unit, on)
        busy = self._children_from(unit, on)
        if busy:
            shown = ", ".join(sorted(busy)[:5]) + (" …" if len(busy) > 5 else "")
            raise HierarchyError(f"Đơn vị {unit} vẫn còn {len(busy)} đơn vị trực thuộc từ ngày {_d(on)} ({shown}); "
                                 f"cần chuyển, sáp nhập hoặc giải thể các đơn vị đó trước.")
        self._end_at(unit, on)
        self._changed(on)

    def merge(self, survivor: str, absorbed: list[str], on: date) -> None:
        """Close each absorbed unit into ``survivor`` from ``on``; their children move to the survivor.

        Everything is checked before anything changes, so a refused merge leaves the tree as it was.
        """
        if not absorbed:
            raise HierarchyError("Sáp nhập cần ít nhất một đơn vị được sáp nhập.")
        if len(set(absorbed)) != len(absorbed):
            raise HierarchyError(f"Danh sách đơn vị được sáp nhập có mã trùng nhau: {', '.join(absorbed)}.")
        if survivor in absorbed:
            raise HierarchyError(f"Không thể sáp nhập đơn vị {survivor} vào chính nó.")
        pending = [a for a in absorbed if not self._already_ended(a, on, merged_into=survivor)]
        if not pending:
            return  # a retry
        self._require_open_parent(survivor, on, child=None, role="survivor")
        for a in pending:
            self._open_version_for_change(a, on, "merge")
            self._check_can_end(a, on)
        absorbed_set = set(pending)
        for anc in [survivor, *self._ancestors_at(survivor, on)]:
            if anc in absorbed_set:
                raise HierarchyError(f"Không thể sáp nhập {anc} vào {survivor}: {survivor} là đơn vị cấp dưới của {anc}.")
        # Children of absorbed units (other than units being absorbed) move to the survivor on `on`.
        moves: list[tuple[str, UnitVersion]] = []
        for a in pending:
            for child in sorted(self._ever_children.get(a, ())):
                if child in absorbed_set:
                    continue
                for v in self._versions[child]:
                    if v.parent_id != a:
                        continue
                    if v.valid_from > on:
                        raise HierarchyError(f"Đơn vị {child} được đặt trực thuộc {a} từ ngày {_d(v.valid_from)}, sau ngày "
                                             f"sáp nhập {_d(on)}; cần sửa điều đó trước.")
                    if v.covers(on):
                        moves.append((child, v))
        for child, v in moves:
            cycle_on = self._cycle_date(child, survivor, on, v.valid_to)
            if cycle_on is not None:
                raise HierarchyError(f"Sáp nhập sẽ đặt {child} trực thuộc {survivor}, tạo thành vòng lặp "
                                     f"vào ngày {_d(cycle_on)}.")
        # All checks passed: apply.
        for child, v in moves:
            self._reparent_span(child, v, survivor, on)
        for a in pending:
            self._end_at(a, on)
            self._merged_into[a] = (survivor, on)
        self._changed(on)

    # --- queries ---------------------------------------------------------------------------------

    def is_registered(self, unit: str) -> bool:
        return unit in self._versions

    def is_active(self, unit: str, as_of: date) -> bool:
        return self._version_at(unit, as_of) is not None

    def versions(self, unit: str) -> list[UnitVersion]:
        """The unit's history, oldest first."""
        return list(self._known(unit))

    def units(self, as_of: date) -> list[str]:
        """Every unit active on ``as_of``, sorted."""
        return sorted(u for u in self._versions if self._version_at(u, as_of) is not None)

    def parent_of(self, unit: str, as_of: date) -> str | None:
        return self._active(unit, as_of).parent_id

    def children(self, unit: str, as_of: date) -> list[str]:
        """Direct children on ``as_of``, sorted."""
        self._active(unit, as_of)
        return list(self._snapshot(as_of).children.get(unit, ()))

    def subtree(self, unit: str, as_of: date, include_self: bool = True) -> list[str]:
        """``unit`` and every unit below it on ``as_of``, breadth first (parents before children)."""
        self._active(unit, as_of)
        children = self._snapshot(as_of).children
        out = [unit] if include_self else []
        queue = deque([unit])
        while queue:
            kids = children.get(queue.popleft())
            if kids:
                out.extend(kids)
                queue.extend(kids)
        return out

    def ancestors(self, unit: str, as_of: date) -> list[str]:
        """Parent, grandparent, … up to the root, on ``as_of``."""
        self._active(unit, as_of)
        return self._ancestors_at(unit, as_of)

    def is_ancestor(self, ancestor: str, unit: str, as_of: date) -> bool:
        """Whether ``ancestor`` is strictly above ``unit`` on ``as_of`` (False if either is not active)."""
        if self._version_at(unit, as_of) is None or self._version_at(ancestor, as_of) is None:
            return False
        return ancestor in self._ancestors_at(unit, as_of)

    def successor(self, unit: str, as_of: date) -> str | None:
        """Where ``unit``'s history lives on ``as_of``: itself while active, else the unit it was
        merged into (following chains of merges). None if it was closed without a successor or
        did not exist yet."""
        self._known(unit)
        seen = set()
        current = unit
        while True:
            if self._version_at(current, as_of) is not None:
                return current
            merged = self._merged_into.get(current)
            if merged is None or merged[1] > as_of:
                return None
            if current in seen:  # cannot happen with checked merges; guard anyway
                raise HierarchyError(f"Vòng lặp sáp nhập tại đơn vị {current}.")
            seen.add(current)
            current = merged[0]

    def merged_into(self, unit: str) -> tuple[str, date] | None:
        """(survivor, date) if ``unit`` was merged, else None."""
        self._known(unit)
        return self._merged_into.get(unit)

    # --- internals -------------------------------------------------------------------------------

    def _known(self, unit: str) -> list[UnitVersion]:
        try:
            return self._versions[unit]
        except KeyError:
            raise HierarchyError(f"Không tìm thấy đơn vị {unit} trong cây tổ chức.") from None

    def _version_at(self, unit: str, on: date) -> UnitVersion | None:
        vs = self._versions.get(unit)
        if not vs:
            return None
        last = vs[-1]
        if last.valid_from <= on:  # the common case: most units have one version
            return last if last.valid_to is None or on < last.valid_to else None
        i = bisect_right(vs, on, key=lambda v: v.valid_from) - 1
        return vs[i] if i >= 0 and vs[i].covers(on) else None

    def _active(self, unit: str, on: date) -> UnitVersion:
        vs = self._known(unit)
        v = self._version_at(unit, on)
        if v is None:
            if on < vs[0].valid_from:
                raise HierarchyError(f"Đơn vị {unit} chưa được đăng ký vào ngày {_d(on)} "
                                     f"(đăng ký từ ngày {_d(vs[0].valid_from)}).")
            raise HierarchyError(f"Đơn vị {unit} không hoạt động vào ngày {_d(on)} "
                                 f"(đã ngừng hoạt động từ ngày {_d(vs[-1].valid_to)}).")
        return v

    def _ancestors_at(self, unit: str, on: date) -> list[str]:
        out: list[str] = []
        v = self._version_at(unit, on)
        while v is not None and v.parent_id is not None:
            out.append(v.parent_id)
            if len(out) > len(self._versions):  # only a bug could make a loop; never spin forever
                raise HierarchyError(f"Vòng lặp trong các đơn vị cấp trên của {unit} vào ngày {_d(on)}.")
            v = self._version_at(v.parent_id, on)
        return out

    def _require_open_parent(self, parent: str, on: date, child: str | None, role: str = "parent") -> None:
        vs = self._versions.get(parent)
        who = _ROLES[role]
        if vs is None:
            raise HierarchyError(f"{who} {parent} chưa được đăng ký.")
        if on < vs[0].valid_from:
            raise HierarchyError(f"{who} {parent} chỉ được đăng ký từ ngày {_d(vs[0].valid_from)}, sau ngày {_d(on)}.")
        if vs[-1].valid_to is not None:
            where = self._merged_into.get(parent)
            how = f"đã sáp nhập vào {where[0]}" if where else "đã giải thể"
            raise HierarchyError(f"{who} {parent} {how} từ ngày {_d(vs[-1].valid_to)}"
                                 + (f"; {child} không thể trực thuộc đơn vị này." if child else "."))

    def _open_version_for_change(self, unit: str, on: date, what: str) -> UnitVersion:
        vs = self._known(unit)
        last = vs[-1]
        verb = _VERBS[what]
        if on < vs[0].valid_from:
            raise HierarchyError(f"Không thể {verb} đơn vị {unit} vào ngày {_d(on)}: đơn vị chỉ được đăng ký "
                                 f"từ ngày {_d(vs[0].valid_from)}.")
        if last.valid_to is not None:
            where = self._merged_into.get(unit)
            how = f"đã sáp nhập vào {where[0]}" if where else "đã giải thể"
            raise HierarchyError(f"Không thể {verb} đơn vị {unit}: đơn vị {how} từ ngày {_d(last.valid_to)}.")
        if on < last.valid_from:
            raise HierarchyError(f"Không thể {verb} đơn vị {unit} vào ngày {_d(on)}: lần thay đổi gần nhất của đơn vị "
                                 f"là ngày {_d(last.valid_from)}; các thay đổi của một đơn vị được ghi theo thứ tự ngày.")
        return last

    def _already_ended(self, unit: str, on: date, merged_into: str | None) -> bool:
        """True when the unit already ended exactly this way on this date (a retried close/merge)."""
        vs = self._known(unit)
        if vs[-1].valid_to != on:
            return False
        return self._merged_into.get(unit, (None, None))[0] == merged_into

    def _children_from(self, unit: str, on: date) -> set[str]:
        """Units placed under ``unit`` on any date from ``on`` onwards."""
        out = set()
        for child in self._ever_children.get(unit, ()):
            for v in self._versions[child]:
                if v.parent_id == unit and (v.valid_to is None or v.valid_to > on):
                    out.add(child)
                    break
        return out

    def _cycle_date(self, unit: str, parent: str, start: date, end: date | None) -> date | None:
        """First date in [start, end) on which ``parent``'s ancestor chain reaches ``unit``, else None.

        The chain can only change when one of its units starts a new version, so we walk from
        ``start`` to each next change date of the chain instead of checking every day."""
        t = start
        while end is None or t < end:
            x: str | None = parent
            next_change: date | None = None
            steps = 0
            while x is not None:
                if x == unit:
                    return t
                v = self._version_at(x, t)
                if v is None:
                    break
                if v.valid_to is not None and (next_change is None or v.valid_to < next_change):
                    next_change = v.valid_to
                x = v.parent_id
                steps += 1
                if steps > len(self._versions):
                    return t
            if next_change is None:
                return None
            t = next_change
        return None

    def _set_parent_from(self, unit: str, parent: str | None, on: date) -> None:
        vs = self._versions[unit]
        last = vs[-1]
        if last.valid_from == on:
            # Same-day correction: replace rather than leave an empty [on, on) version.
            vs[-1] = replace(last, parent_id=parent)
            if len(vs) > 1 and vs[-2].parent_id == parent:
                vs.pop()
                vs[-1] = replace(vs[-1], valid_to=None)
        else:
            vs[-1] = replace(last, valid_to=on)
            vs.append(UnitVersion(unit, parent, on))
        if parent is not None:
            self._ever_children.setdefault(parent, set()).add(unit)

    def _reparent_span(self, unit: str, v: UnitVersion, parent: str, on: date) -> None:
        """Give ``unit`` the parent ``parent`` from ``on`` until version ``v`` ends (a merge may
        reach a child that already has later changes recorded)."""
        vs = self._versions[unit]
        i = vs.index(v)
        if v.valid_from == on:
            vs[i] = replace(v, parent_id=parent)
        else:
            vs[i:i + 1] = [replace(v, valid_to=on), UnitVersion(unit, parent, on, v.valid_to)]
        self._ever_children.setdefault(parent, set()).add(unit)

    def _check_can_end(self, unit: str, on: date) -> None:
        vs = self._versions[unit]
        if len(vs) == 1 and vs[0].valid_from == on:
            # It would never have existed; drop the registration instead (a correction).
            raise HierarchyError(f"Đơn vị {unit} được đăng ký ngày {_d(on)}; không thể kết thúc ngay trong ngày đó.")

    def _end_at(self, unit: str, on: date) -> None:
        vs = self._versions[unit]
        last = vs[-1]
        if last.valid_from == on:
            vs.pop()  # the version starting today never held; the previous one already ends today
        else:
            vs[-1] = replace(last, valid_to=on)

    def _changed(self, on: date) -> None:
        self._snapshots.clear()
        if on not in self._change_dates:
            self._change_dates.add(on)
            self._sorted_dates = None

    def _snapshot(self, as_of: date) -> _Snapshot:
        # Dates between two consecutive change dates see the same tree: key the cache by that stretch.
        if self._sorted_dates is None:
            self._sorted_dates = sorted(self._change_dates)
        key = bisect_right(self._sorted_dates, as_of)
        snap = self._snapshots.get(key)
        if snap is None:
            children: dict[str, list[str]] = {}
            for unit in self._versions:
                v = self._version_at(unit, as_of)
                if v is not None and v.parent_id is not None:
                    children.setdefault(v.parent_id, []).append(unit)
            for kids in children.values():
                kids.sort()
            if len(self._snapshots) >= _SNAPSHOT_CACHE:
                self._snapshots.pop(next(iter(self._snapshots)))
            snap = self._snapshots[key] = _Snapshot(children)
        return snap


__all__ = ["Hierarchy", "HierarchyError", "UnitVersion"]
