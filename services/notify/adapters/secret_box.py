"""Webhook secrets at rest: sealed with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`),
under keys kept in a file outside the database, so that a copy of the database (a backup, a
replica, a dump handed around) does not sign anyone's webhooks.

The key file holds one Fernet key a line (`#` comments and blank lines ignored). The first key
seals; every key opens (MultiFernet), so rotating is: put a new key on the first line, keep the old
ones below it, restart — the service re-seals every stored secret with the new key at start and
logs when it is done; then the old lines may go.

When the file does not exist it is made, with one new key, readable by its owner only (0600, in a
0700 folder) — that is what the embedded stack does on its first start. Several replicas must share
one file (a mounted secret): a replica with another key cannot open what the others sealed.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from runtime.logging import get_logger

log = get_logger("notify.secrets")


class SecretUnreadable(Exception):
    """A sealed secret none of the configured keys opens (the key file was replaced or lost)."""


class SecretBox:
    def __init__(self, keys: list[bytes], source: str = "") -> None:
        if not keys:
            raise ValueError(f"no key in {source or 'the key list'}")
        self._current = Fernet(keys[0])
        self._all = MultiFernet([Fernet(k) for k in keys])
        self.source = source
        self.key_count = len(keys)

    def seal(self, secret: str) -> str:
        return self._current.encrypt(secret.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._all.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(f"no key in {self.source or 'the key list'} opens this webhook secret") from None

    def is_current(self, token: str) -> bool:
        """Sealed with the first (current) key."""
        try:
            self._current.decrypt(token.encode())
            return True
        except InvalidToken:
            return False

    def reseal(self, token: str) -> str:
        """The same secret, sealed with the current key (after a rotation)."""
        try:
            return self._all.rotate(token.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(f"no key in {self.source or 'the key list'} opens this webhook secret") from None

    @classmethod
    def from_file(cls, path: Path, *, create: bool = True) -> SecretBox:
        path = Path(path)
        if not path.exists():
            if not create:
                raise FileNotFoundError(f"webhook secrets key file {path} does not exist")
            _create_key_file(path)
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("the webhook secrets key file is readable by others: chmod 600 it", path=str(path),
                        mode=oct(mode & 0o777))
        keys: list[bytes] = []
        for n, line in enumerate(path.read_text(encoding="ascii").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                Fernet(line.encode())
            except ValueError:
                raise ValueError(f"{path}, line {n}: not a Fernet key (32 url-safe base64-encoded bytes; "
                                 f"make one with: python -c 'from cryptography.fernet import Fernet; "
                                 f"print(Fernet.generate_key().decode())')") from None
            keys.append(line.encode())
        return cls(keys, str(path))


def _create_key_file(path: Path) -> None:
    """A new key file, atomically: written aside, then linked into place, so that two processes
    starting at once end up with one key (the second one's link fails, and it reads the first's)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write("# Keys of the notify service's webhook secrets: the first seals, all open.\n"
                    "# Keep a copy: without it the stored webhook secrets cannot be used.\n")
            f.write(Fernet.generate_key().decode() + "\n")
        try:
            os.link(tmp, path)
            log.warning("made a new key for webhook secrets; back it up", path=str(path))
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
