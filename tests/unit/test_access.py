"""The access policy, stated as a table (runtime/access.py): who may do what on which unit.

The hierarchy of every row (as of the date that matters):

    prov (provincial federation) ─┬─ dept (Ban TG-NC: receives the province's reports)
                                  ├─ upper (upper-level union) ─┬─ g (grassroots union: the target)
                                  │                             └─ sib (its sibling)
                                  └─ old (closed: merged into upper)
"""

from __future__ import annotations

import pytest

from runtime.access import Action, Actor, Target, decide

A = Action


def person(pid: str, unit: str, *roles: str, active: bool = True, closed: bool = False,
           above: tuple[str, ...] = ()) -> Actor:
    return Actor("person", pid, unit, frozenset(roles), active, closed, unit_ancestors=above)


CHAIR_G = person("chair-g", "g", "chairperson", above=("upper", "prov"))
CADRE_G = person("cadre-g", "g", "cadre", above=("upper", "prov"))
MEMBER_G = person("member-g", "g", "member", above=("upper", "prov"))
ADMIN_G = person("admin-g", "g", "administrator", above=("upper", "prov"))
CHAIR_UPPER = person("chair-upper", "upper", "chairperson", above=("prov",))
CADRE_UPPER = person("cadre-upper", "upper", "cadre", above=("prov",))
MEMBER_UPPER = person("member-upper", "upper", "member", above=("prov",))
CHAIR_PROV = person("chair-prov", "prov", "chairperson")
CHAIR_SIB = person("chair-sib", "sib", "chairperson", above=("upper", "prov"))
DEPT = person("dept-cadre", "dept", "cadre", above=("prov",))
CHAIR_OLD = person("chair-old", "old", "chairperson", closed=True)
INACTIVE = person("gone", "g", "chairperson", active=False, above=("upper", "prov"))
LOADER = Actor("service", "loader", roles=frozenset({"directory_admin", "plan_issuer"}))
READER = Actor("service", "bi", roles=frozenset({"reader"}))
NOBODY = Actor("service", "x", roles=frozenset())

G = Target("g", ("upper", "prov"))
UPPER = Target("upper", ("prov",))  # reports to prov, whose Ban TG-NC receives
UPPER_WITH_DEPT = Target("upper", ("prov",), receiving_departments=frozenset({"dept"}), departments_for="prov")
PROV_WITH_DEPT = Target("prov", (), receiving_departments=frozenset({"dept"}), departments_for="prov")
OLD = Target("old", ("prov",), merged_into="upper")
PROV = Target("prov", ())
ROOT = Target(None)


def own(pid: str, unit: Target = G) -> Target:
    return Target(unit.unit_id, unit.ancestors, owner=pid)


ALLOWED, REFUSED = True, False

TABLE = [
    # READ: the unit itself (anyone), staff of the levels above, the receiving department
    (CHAIR_G, A.READ, G, ALLOWED), (MEMBER_G, A.READ, G, ALLOWED), (CHAIR_UPPER, A.READ, G, ALLOWED),
    (CHAIR_PROV, A.READ, G, ALLOWED), (MEMBER_UPPER, A.READ, G, REFUSED), (CHAIR_SIB, A.READ, G, REFUSED),
    (CHAIR_G, A.READ, UPPER, REFUSED), (DEPT, A.READ, UPPER_WITH_DEPT, ALLOWED), (DEPT, A.READ, UPPER, REFUSED),
    (DEPT, A.READ, PROV_WITH_DEPT, ALLOWED), (DEPT, A.REVIEW, PROV_WITH_DEPT, REFUSED),
    (DEPT, A.ACT, PROV_WITH_DEPT, ALLOWED), (DEPT, A.ACT, PROV, REFUSED), (DEPT, A.ACT, UPPER_WITH_DEPT, REFUSED),
    (READER, A.READ, G, ALLOWED), (NOBODY, A.READ, G, REFUSED), (INACTIVE, A.READ, G, REFUSED),
    (CHAIR_UPPER, A.READ, OLD, ALLOWED),  # the unit it absorbed
    # READ_ISSUED: what a unit issues is seen below it too
    (MEMBER_G, A.READ_ISSUED, PROV, ALLOWED), (CHAIR_SIB, A.READ_ISSUED, UPPER, ALLOWED),
    (CHAIR_G, A.READ_ISSUED, Target("sib", ("upper", "prov")), REFUSED),
    # ACT: acting people of the unit itself, never the levels above or a plain member
    (CHAIR_G, A.ACT, G, ALLOWED), (CADRE_G, A.ACT, G, ALLOWED), (MEMBER_G, A.ACT, G, REFUSED),
    (ADMIN_G, A.ACT, G, REFUSED), (CHAIR_UPPER, A.ACT, G, REFUSED), (CHAIR_SIB, A.ACT, G, REFUSED),
    (CHAIR_UPPER, A.ACT, OLD, ALLOWED), (CHAIR_OLD, A.ACT, OLD, REFUSED), (LOADER, A.ACT, G, REFUSED),
    # ISSUE / DECIDE: leaders of the unit itself
    (CHAIR_PROV, A.ISSUE, PROV, ALLOWED), (CADRE_UPPER, A.ISSUE, UPPER, REFUSED), (CHAIR_UPPER, A.ISSUE, G, REFUSED),
    (LOADER, A.ISSUE, PROV, ALLOWED), (READER, A.ISSUE, PROV, REFUSED),
    (CHAIR_PROV, A.DECIDE, PROV, ALLOWED), (CHAIR_UPPER, A.DECIDE, PROV, REFUSED), (LOADER, A.DECIDE, PROV, REFUSED),
    # REVIEW: the receiving level or its receiving department
    (CHAIR_UPPER, A.REVIEW, G, ALLOWED), (CADRE_UPPER, A.REVIEW, G, ALLOWED), (MEMBER_UPPER, A.REVIEW, G, REFUSED),
    (CHAIR_PROV, A.REVIEW, G, REFUSED), (CHAIR_G, A.REVIEW, G, REFUSED), (CHAIR_SIB, A.REVIEW, G, REFUSED),
    (DEPT, A.REVIEW, UPPER_WITH_DEPT, ALLOWED), (DEPT, A.REVIEW, UPPER, REFUSED),
    (CHAIR_PROV, A.REVIEW, UPPER, ALLOWED),
    # OVERSEE: leaders above the receiving level
    (CHAIR_PROV, A.OVERSEE, G, ALLOWED), (CHAIR_UPPER, A.OVERSEE, G, REFUSED), (CHAIR_PROV, A.OVERSEE, UPPER, REFUSED),
    # ADMINISTER: administrators and chairs of the unit or above
    (ADMIN_G, A.ADMINISTER, G, ALLOWED), (CHAIR_G, A.ADMINISTER, G, ALLOWED), (CADRE_G, A.ADMINISTER, G, REFUSED),
    (CHAIR_UPPER, A.ADMINISTER, G, ALLOWED), (CHAIR_SIB, A.ADMINISTER, G, REFUSED),
    (LOADER, A.ADMINISTER, ROOT, ALLOWED), (CHAIR_PROV, A.ADMINISTER, ROOT, REFUSED), (READER, A.ADMINISTER, G, REFUSED),
    # OWN: the person themself, nobody else — not a chair, not a service
    (MEMBER_G, A.OWN, own("member-g"), ALLOWED), (CHAIR_G, A.OWN, own("member-g"), REFUSED),
    (CHAIR_PROV, A.OWN, own("member-g"), REFUSED), (LOADER, A.OWN, own("member-g"), REFUSED),
    (CHAIR_OLD, A.OWN, own("chair-old", OLD), ALLOWED),  # a merged-away unit's chair keeps their own inbox
    # ASSESS: the person, or leaders of their unit or above
    (MEMBER_G, A.ASSESS, own("member-g"), ALLOWED), (CHAIR_G, A.ASSESS, own("member-g"), ALLOWED),
    (CHAIR_UPPER, A.ASSESS, own("member-g"), ALLOWED), (CADRE_G, A.ASSESS, own("member-g"), REFUSED),
    (CHAIR_SIB, A.ASSESS, own("member-g"), REFUSED), (LOADER, A.ASSESS, own("member-g"), REFUSED),
    # A person whose unit is closed acts for nothing
    (CHAIR_OLD, A.READ, OLD, REFUSED), (CHAIR_OLD, A.ADMINISTER, OLD, REFUSED),
]


@pytest.mark.parametrize("actor,action,target,allowed", TABLE,
                         ids=[f"{a.id}-{act.value}-{t.unit_id or t.owner}" for a, act, t, _ in TABLE])
def test_the_policy(actor: Actor, action: Action, target: Target, allowed: bool) -> None:
    decision = decide(actor, action, target)
    assert bool(decision) is allowed, decision.reason
    assert decision.reason  # every answer says why, in Vietnamese when refused
    if not allowed:
        assert decision.reason.endswith(".")


def test_every_action_is_in_the_table() -> None:
    assert {a for _, a, _, _ in TABLE} == set(Action)


def test_the_heirs_of_a_merged_level_stand_where_it_stood() -> None:
    """g reported to `old` in its period; `old` has since merged into `upper`."""
    target = Target("g", ("old", "prov"), successors=(("old", "upper"),))
    assert decide(CADRE_UPPER, A.REVIEW, target)
    assert decide(CHAIR_UPPER, A.READ, target)
    assert not decide(CHAIR_SIB, A.REVIEW, target)
