"""Shared contracts of congdoan: the event envelope, every event and request/reply model, and the
naming scheme that ties them to NATS subjects, streams and durable consumers.

Schema-first: the pydantic models here are the single source; `python -m contracts.generate`
writes JSON Schema (`contracts/schemas/`) and AsyncAPI 3 (`contracts/asyncapi/`) from them.
This package imports nothing of the services or the runtime.
"""
