"""structlog set-up: JSON lines when stdout is not a terminal, readable lines when it is.

Libraries that log through stdlib logging (nats, SQLAlchemy, alembic, aiohttp, uvicorn, FastStream)
go through the same renderer to the same stream, so a container writes one format: each of their
records becomes one JSON object with `logger`, `level`, `timestamp`, the bound `service`, and
`exception` when there is one. They log at WARNING and above (their INFO is per-connection noise).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

LIBRARY_LEVEL = logging.WARNING


def configure_logging(level: str = "INFO", json: bool | None = None, service: str | None = None,
                      stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    if json is None:
        json = not out.isatty()
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer(colors=False)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.StackInfoRenderer(), structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    # stdlib records (the libraries') through the same processors and renderer, to the same stream.
    handler = logging.StreamHandler(out)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.format_exc_info,
                    renderer]))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(LIBRARY_LEVEL)
    for noisy in ("aiohttp.access", "alembic.runtime.migration", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if service:
        structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
