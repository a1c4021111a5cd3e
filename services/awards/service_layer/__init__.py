"""Use cases of the awards service, as plain functions (command, caller, uow), one module per
group of use cases; bootstrap.py wires them to endpoints and events.

- eligibility.py: get_eligibility, check_eligibility; the facts eligibility is computed from
  (reports' submitted/returned/accepted, individual plans' assessments)
- planned_rounds.py: rounds opened by plans (plan.issued, plan.closed, the yearly reminder)
- rounds.py: the forms' catalogue, open_round, set_round_quotas, get_round, list_rounds
- nominations.py: submit, withdraw, forward (endorse or return), list
- decisions.py: record_council_result, issue_decision
- exemplary.py: exemplary models, award history
- common.py: what several share (ids, authorisation, a round by id, live eligibility, replies)

The rules themselves are in ../domain (model.py, eligibility.py, windows.py). Request handlers open
the unit of work, authorise the actor against awards' own projection of the directory, apply the
domain rules, record events with `uow.emit()` and commit. Event handlers (facts from plans and
reports) and reminder handlers do not commit: the consumer (or the scheduler) commits their batch
together with its inbox rows (or the reminder's claim).
"""
