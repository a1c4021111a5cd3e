"""The access policy: who may do what on which unit — one rule, used by all four services.

`decide()` is a pure function of
* the caller (a person with their unit and roles on the date, or a machine identity with its roles),
* the action,
* the target: a unit with its ancestors in the hierarchy *as of the date that matters* (a report's
  period, a task's date, today for the directory), the unit it was merged into, the receiving
  level of its reports and the receiving departments acting for that level, or — for personal
  records — the person they belong to.
It does no I/O: the services gather the facts from their own projection of the directory
(`runtime.directory.Directory.target`) and ask. `tests/unit/test_access.py` states the rule as a
table; `tests/integration/test_authorization_matrix.py` checks every endpoint of every service.

The rule, in words (roles: chairperson, executive_member, head_of_unit = *leaders*; leaders and
cadre = *acting*; administrator and chairperson = *administrators*; member = a plain member):

| action        | allowed for                                                                          |
| ------------- | ------------------------------------------------------------------------------------ |
| READ          | anyone of the unit; acting people and administrators of a unit above it, or of a       |
|               | receiving department of its receiving level                                          |
| READ_ISSUED   | what a unit issues to the units below it (plans, requirements, award rounds): anyone   |
|               | of the unit or of a unit below it, and whoever may READ the unit                     |
| ACT           | acting people of the unit itself (or of the unit it was merged into), or of a        |
|               | department receiving for it (Ban TG-NC consolidates the province's reports)          |
| ISSUE         | leaders of the unit itself (plans, requirements, forms, award rounds it issues)      |
| REVIEW        | acting people of the receiving level, or of one of its receiving departments         |
| OVERSEE       | leaders of a unit above the receiving level (return an already accepted report)      |
| DECIDE        | leaders of the unit itself (the emulation and awards council of the issuing level)   |
| ADMINISTER    | administrators of the unit or of a unit above (units, people, logins below them)     |
| OWN           | the person themself (inbox, notification preferences, password)                      |
| ASSESS        | a person's individual plan: the person themself, or leaders of the person's unit or a  |
|               | unit above (who assess it)                                                           |

A person whose unit is closed on the date (merged away, dissolved) keeps only OWN. Machine
identities never act, review, decide or own: they hold narrow roles (`SERVICE_ROLES`) that allow
reading, administering the directory or issuing plans, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contracts.types import Role


class Action(StrEnum):
    READ = "read"
    READ_ISSUED = "read_issued"
    ACT = "act"
    ISSUE = "issue"
    REVIEW = "review"
    OVERSEE = "oversee"
    DECIDE = "decide"
    ADMINISTER = "administer"
    OWN = "own"
    ASSESS = "assess"


LEADERS = frozenset({Role.CHAIRPERSON, Role.EXECUTIVE_MEMBER, Role.HEAD_OF_UNIT})
ACTING = LEADERS | {Role.CADRE}
ADMINISTRATORS = frozenset({Role.ADMINISTRATOR, Role.CHAIRPERSON})
STAFF = ACTING | ADMINISTRATORS  # everyone but a plain member

# The roles a machine identity (a service account) may hold, and the actions each allows.
SERVICE_ROLES: dict[str, frozenset[Action]] = {
    "reader": frozenset({Action.READ, Action.READ_ISSUED}),  # integrations that read figures, plans, reports
    "directory_admin": frozenset({Action.READ, Action.READ_ISSUED, Action.ADMINISTER}),  # loaders, HR syncs
    "plan_issuer": frozenset({Action.READ, Action.READ_ISSUED, Action.ISSUE}),  # loads and issues plans
}


@dataclass(frozen=True)
class Actor:
    """The caller as the directory knows them on the date."""

    kind: str  # "person" | "service"
    id: str
    unit_id: str | None = None
    roles: frozenset[str] = frozenset()
    active: bool = True
    unit_closed: bool = False  # the person's unit no longer exists on the date
    full_name: str = ""
    unit_ancestors: tuple[str, ...] = ()  # the units above the person's unit on the date

    @property
    def is_person(self) -> bool:
        return self.kind == "person"

    @property
    def label(self) -> str:
        """What is written down as the author of a change."""
        return self.id if self.is_person else f"svc:{self.id}"


@dataclass(frozen=True)
class Target:
    """What the action is on. For unit actions `unit_id` and its `ancestors` (nearest first) as of
    the date; for personal records also `owner` (a person id)."""

    unit_id: str | None
    ancestors: tuple[str, ...] = ()
    merged_into: str | None = None  # the unit whose history this one's now is (after a merge)
    receiving_unit: str | None = None  # who receives this unit's reports (defaults to the parent)
    # Departments that act for `departments_for` (a requirement's receiving unit, e.g. Ban TG-NC
    # receives the reports sent to the LĐLĐ tỉnh): they read and review what it receives.
    receiving_departments: frozenset[str] = frozenset()
    departments_for: str | None = None
    owner: str | None = None  # personal records: the person they belong to
    exists: bool = True
    # Ancestors since merged away, and the unit whose history each is now: its people stand where
    # the absorbed level stood (a report of the period is reviewed by the merged level's heirs).
    successors: tuple[tuple[str, str], ...] = ()

    @property
    def receiver(self) -> str | None:
        return self.receiving_unit or (self.ancestors[0] if self.ancestors else None)

    def stands_for(self, actor_unit: str | None, unit: str | None) -> bool:
        """Whether people of `actor_unit` act where `unit` stood: it is that unit, or its heir."""
        return unit is not None and (actor_unit == unit or (unit, actor_unit) in self.successors)

    def is_above(self, actor_unit: str | None) -> bool:
        return actor_unit in self.ancestors or any(heir == actor_unit for _, heir in self.successors)

    def delegated(self, actor_unit: str | None) -> str | None:
        """The receiving unit a department of `actor_unit` acts for here, if any."""
        return self.departments_for if actor_unit in self.receiving_departments else None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # Vietnamese, for the person who was refused (or why it was allowed)

    def __bool__(self) -> bool:
        return self.allowed


def _yes(reason: str) -> Decision:
    return Decision(True, reason)


def _no(reason: str) -> Decision:
    return Decision(False, reason)


_WHAT = {
    Action.READ: "xem thông tin của đơn vị này",
    Action.READ_ISSUED: "xem văn bản đơn vị này ban hành",
    Action.ACT: "thực hiện thay mặt đơn vị này",
    Action.ISSUE: "ban hành văn bản của đơn vị này",
    Action.REVIEW: "tiếp nhận, duyệt hoặc trả lại báo cáo của đơn vị này",
    Action.OVERSEE: "trả lại báo cáo đã được cấp nhận duyệt",
    Action.DECIDE: "xét, quyết định khen thưởng của đơn vị này",
    Action.ADMINISTER: "quản trị tổ chức, con người và tài khoản của đơn vị này",
    Action.OWN: "xem hoặc thay đổi thông tin cá nhân của người khác",
    Action.ASSESS: "xem hoặc đánh giá kế hoạch cá nhân của người này",
}


def decide(actor: Actor, action: Action, target: Target) -> Decision:
    """May `actor` do `action` on `target`? Pure: the same facts give the same answer."""
    what = _WHAT[action]
    if not actor.is_person:
        if any(action in SERVICE_ROLES.get(r, ()) for r in actor.roles):
            return _yes(f"định danh dịch vụ {actor.id} có vai trò cho phép")
        return _no(f"Định danh dịch vụ {actor.id} không có vai trò được phép {what}.")
    if not actor.active:
        return _no("Tài khoản của đồng chí đã ngừng hoạt động.")
    if action is Action.OWN:
        return (_yes("chính chủ") if target.owner == actor.id
                else _no("Mỗi người chỉ xem và thay đổi thông tin cá nhân của chính mình."))
    if actor.unit_closed or actor.unit_id is None:
        return _no("Đơn vị của đồng chí đã giải thể hoặc sáp nhập; đồng chí không còn thực hiện được việc này.")
    roles = actor.roles
    mine = actor.unit_id == target.unit_id or (target.merged_into is not None and actor.unit_id == target.merged_into)
    above = target.is_above(actor.unit_id)
    if action is Action.ASSESS:
        if target.owner == actor.id:
            return _yes("chính chủ")
        if (mine or above) and roles & LEADERS:
            return _yes("lãnh đạo đơn vị của người này hoặc cấp trên")
        return _no(f"Đồng chí không được {what}: chỉ người đó và lãnh đạo đơn vị của họ hoặc cấp trên.")
    if action is Action.READ_ISSUED:
        if mine or target.unit_id in actor.unit_ancestors:
            return _yes("đơn vị ban hành hoặc đơn vị cấp dưới")
        action = Action.READ  # those who may read the issuing unit see what it issued
    if action is Action.READ:
        if mine:
            return _yes("người của đơn vị")
        delegated = target.delegated(actor.unit_id)
        if (above or (delegated is not None and (delegated == target.unit_id or delegated in target.ancestors))) \
                and roles & STAFF:
            return _yes("cán bộ cấp trên")
        return _no(f"Đồng chí không được {what}: chỉ đơn vị đó và cán bộ các cấp trên của đơn vị.")
    if action is Action.ACT:
        if (mine or target.delegated(actor.unit_id) == target.unit_id) and roles & ACTING:
            return _yes("cán bộ của đơn vị")
        return _no(f"Đồng chí không được {what}: chỉ cán bộ (chủ tịch, ủy viên ban chấp hành, người đứng đầu, "
                   "cán bộ) của chính đơn vị đó.")
    if action in (Action.ISSUE, Action.DECIDE):
        if mine and roles & LEADERS:
            return _yes("lãnh đạo đơn vị")
        return _no(f"Đồng chí không được {what}: chỉ lãnh đạo (chủ tịch, ủy viên ban chấp hành, người đứng đầu) "
                   "của chính đơn vị đó.")
    if action is Action.REVIEW:
        receiver = target.receiver
        if receiver is not None and roles & ACTING and (
                target.stands_for(actor.unit_id, receiver) or target.delegated(actor.unit_id) == receiver):
            return _yes("cấp nhận báo cáo")
        return _no(f"Đồng chí không được {what}: chỉ cấp nhận báo cáo (cấp trên trực tiếp hoặc ban được giao "
                   "tiếp nhận).")
    if action is Action.OVERSEE:
        receiver = target.receiver
        higher = target.ancestors[target.ancestors.index(receiver) + 1:] if receiver in target.ancestors else ()
        if any(target.stands_for(actor.unit_id, u) for u in higher) and roles & LEADERS:
            return _yes("lãnh đạo cấp trên của cấp nhận báo cáo")
        return _no(f"Đồng chí không được {what}: chỉ lãnh đạo cấp trên của cấp nhận báo cáo.")
    if action is Action.ADMINISTER:
        if (mine or above) and roles & ADMINISTRATORS:
            return _yes("quản trị viên của đơn vị hoặc cấp trên")
        return _no(f"Đồng chí không được {what}: chỉ quản trị viên hoặc chủ tịch của đơn vị đó hoặc cấp trên.")
    raise AssertionError(action)  # every action is handled above
