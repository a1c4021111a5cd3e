"""Use cases of the reports service, as plain functions (command, caller, uow, context); bootstrap.py
wires them to endpoints, events and reminders.

- submission.py: submit_report (the hot path), save_draft
- review.py: accept_report, return_report, reopen_report
- reading.py: get_report, list_reports
- requirements.py: requirements (opened by command or from plans' items), forms, reminders
- consolidating.py: completeness, consolidation, the exported files
- context.py: settings, known forms, the requirements cache, authorisation (with receiving departments)

The rules themselves are in ../domain (model.py: timeliness, cut-off, review transitions; forms.py;
consolidation.py). The unit of work commits; events are recorded with `uow.emit()`.
"""
