"""The awards service: award rounds (đợt khen thưởng), nominations and their review up the union
hierarchy, council results and decisions, exemplary models (điển hình tiên tiến), and award history
that survives reorganisations.

It projects what it needs of other services' events into its own database — the directory
(runtime.directory), reports' submitted/returned/accepted facts and plans' individual-plan
assessments (for eligibility), and plans' items whose output is an award round (to open rounds) —
and publishes round.opened, nomination.submitted, nomination.decided, award.granted and
exemplary_model.registered.
"""
