"""A local mail catcher, so that the embedded stack shows e-mail without a mail server.

    python -m services.notify.mailcatcher [--host 127.0.0.1] [--port 8025] [--dir var/mail]

An SMTP server (aiosmtpd) that accepts every message and stores it as `<Message-ID>.eml` under
`--dir` (open them with any mail program), printing one line per message. Point notify at it with
CONGDOAN_NOTIFY_SMTP_URL=smtp://127.0.0.1:8025.

SMTP is at-least-once: a sender that crashed between the server's "250 OK" and its own bookkeeping
sends the message again. notify derives each Message-ID from the delivery, so the catcher keeps the
first copy of a Message-ID and drops repeats (it counts them) — the way a mail store deduplicates.
Addresses given with --reject (or ending in a --reject-suffix) are refused with 550, to try out
permanent failures.

Tests and the benchmark use `MailStore` and `CatcherServer` in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Iterable
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8025
_SAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def message_id_of(content: bytes) -> str:
    headers = BytesHeaderParser(policy=compat32).parsebytes(content)
    return str(headers.get("Message-ID", "")).strip()


def file_name(message_id: str) -> str:
    return _SAFE.sub("_", message_id.strip("<>"))[:200] + ".eml"


def _decoded(value: Any) -> str:
    try:
        return str(make_header(decode_header(str(value or ""))))
    except Exception:
        return str(value or "")


class MailStore:
    """The aiosmtpd handler: keeps the first message of each Message-ID (in memory and, with a
    directory, as .eml files), counts repeats, refuses the addresses it is told to."""

    def __init__(self, directory: Path | None = None, *, reject: Iterable[str] = (),
                 reject_suffixes: Iterable[str] = (), delay_s: float = 0.0, keep: bool = True,
                 echo: bool = False) -> None:
        self.directory = Path(directory) if directory else None
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)
        self.reject = {a.lower() for a in reject}
        self.reject_suffixes = tuple(s.lower() for s in reject_suffixes)
        self.delay_s = delay_s
        self.keep = keep
        self.echo = echo
        self.messages: dict[str, bytes] = {}  # Message-ID -> raw message (first copy)
        self.recipients: dict[str, list[str]] = {}
        self.ids: set[str] = set()
        self.accepted = 0  # distinct messages
        self.duplicates = 0  # repeats of a Message-ID already here
        self.refused = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        a = address.lower()
        if a in self.reject or (self.reject_suffixes and a.endswith(self.reject_suffixes)):
            self.refused += 1
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        content: bytes = envelope.original_content or envelope.content
        mid = message_id_of(content) or f"<no-id-{time.time_ns()}@catcher>"
        path = self.directory / file_name(mid) if self.directory else None
        if mid in self.ids or (path is not None and path.exists()):
            self.ids.add(mid)
            self.duplicates += 1
            return "250 OK: duplicate Message-ID, dropped"
        self.ids.add(mid)
        self.accepted += 1
        if self.keep:
            self.messages[mid] = content
            self.recipients[mid] = list(envelope.rcpt_tos)
        if path is not None:
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(content)
            os.replace(tmp, path)
        if self.echo:
            headers = BytesHeaderParser(policy=compat32).parsebytes(content)
            print(f"{time.strftime('%H:%M:%S')}  {', '.join(envelope.rcpt_tos)}  {_decoded(headers.get('Subject'))}"
                  + (f"  → {path}" if path else ""), flush=True)
        return "250 OK"


class CatcherServer:
    """An SMTP server on the running event loop; `stop()` also drops open sessions (an outage)."""

    def __init__(self, store: MailStore, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.store = store
        self.host = host
        self.port = port
        self._server: asyncio.AbstractServer | None = None
        self._sessions: set[Any] = set()

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def _session(self) -> Any:
        from aiosmtpd.smtp import SMTP

        proto = SMTP(self.store, hostname="congdoan-mailcatcher", ident="congdoan mail catcher")
        self._sessions.add(proto)
        return proto

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._session, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for proto in list(self._sessions):
                transport = getattr(proto, "transport", None)
                if transport is not None:
                    transport.close()
            self._sessions.clear()
            await self._server.wait_closed()
            self._server = None


async def _serve(args: argparse.Namespace) -> int:
    store = MailStore(Path(args.dir), reject=args.reject or (), reject_suffixes=args.reject_suffix or (), keep=False,
                      echo=True)
    server = CatcherServer(store, args.host, args.port)
    try:
        await server.start()
    except OSError as exc:
        print(f"mailcatcher: cannot listen on {args.host}:{args.port}: {exc}; choose another with --port",
              file=sys.stderr)
        return 2
    print(f"mail catcher on {server.url}, storing to {Path(args.dir).resolve()} "  # noqa: ASYNC240 - once, at start
          f"(set CONGDOAN_NOTIFY_SMTP_URL={server.url})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()
    print(f"mail catcher stopped: {store.accepted} messages, {store.duplicates} repeats dropped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Catch the e-mail of the embedded stack into .eml files.")
    p.add_argument("--host", default=os.environ.get("CONGDOAN_MAILCATCHER_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CONGDOAN_MAILCATCHER_PORT", DEFAULT_PORT)))
    p.add_argument("--dir", default=str(Path(os.environ.get("CONGDOAN_DATA_DIR", "var")) / "mail"))
    p.add_argument("--reject", action="append", help="refuse this address with 550 (repeatable)")
    p.add_argument("--reject-suffix", action="append", help="refuse addresses ending so, e.g. @invalid.example")
    args = p.parse_args(argv)
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    return asyncio.run(_serve(args))


if __name__ == "__main__":
    sys.exit(main())
