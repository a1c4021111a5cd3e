"""The deployment's topology as processes on loopback (no container engine here): the NATS nodes
of deploy/compose.yaml, started from the very nats.conf runtime.deploygen writes (the file the
compose file mounts) with each node's environment read from the compose file — only addresses
and store folders moved to loopback ports and a temporary folder."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from runtime.launcher import free_port, nats_server_binary, wait_for
from tests.deploy.compose import environment, load

NODES = ("nats-1", "nats-2", "nats-3")


@dataclass
class Node:
    name: str
    env: dict[str, str]
    client_port: int
    http_port: int
    cluster_port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    def healthz(self) -> int | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/healthz", timeout=1) as r:
                return int(r.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def varz(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/varz", timeout=2) as r:
            return json.loads(r.read())


@dataclass
class Cluster:
    conf: Path
    folder: Path
    nodes: dict[str, Node] = field(default_factory=dict)

    def __post_init__(self) -> None:
        doc = load()
        ports = {n: (free_port(), free_port(), free_port()) for n in NODES}
        for n in NODES:
            env = environment(n, doc=doc)
            client, http, cluster = ports[n]
            env["NATS_LISTEN"] = re.sub(r"^[\d.]+:4222$", f"127.0.0.1:{client}", env["NATS_LISTEN"])
            env["NATS_HTTP"] = re.sub(r"^[\d.]+:8222$", f"127.0.0.1:{http}", env["NATS_HTTP"])
            env["NATS_CLUSTER_LISTEN"] = re.sub(r"^[\d.]+:6222$", f"127.0.0.1:{cluster}", env["NATS_CLUSTER_LISTEN"])
            env["NATS_ROUTES"] = re.sub(r"nats-route://(nats-\d):6222",
                                        lambda m: f"nats-route://127.0.0.1:{ports[m.group(1)][2]}", env["NATS_ROUTES"])
            env["NATS_STORE_DIR"] = str(self.folder / n)
            assert "4222" not in env["NATS_LISTEN"] and "//nats-" not in env["NATS_ROUTES"], env
            self.nodes[n] = Node(n, env, client, http, cluster, self.folder / f"{n}.log")

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes.values()]

    def start(self, name: str | None = None, timeout: float = 30) -> None:
        for node in [self.nodes[name]] if name else self.nodes.values():
            node.log.parent.mkdir(parents=True, exist_ok=True)
            out = open(node.log, "ab")
            node.proc = subprocess.Popen([nats_server_binary(), "-c", str(self.conf)], env=node.env,
                                         stdout=out, stderr=subprocess.STDOUT)
        for node in [self.nodes[name]] if name else self.nodes.values():
            wait_for(lambda n=node: self._healthy(n), timeout, f"{node.name} /healthz 200 (see {node.log})", 0.1)

    def _healthy(self, node: Node) -> bool:
        if node.proc is not None and node.proc.poll() is not None:
            raise RuntimeError(f"{node.name} exited with {node.proc.returncode}: {node.log.read_text()[-2000:]}")
        return node.healthz() == 200

    def kill(self, name: str) -> None:
        node = self.nodes[name]
        if node.proc is not None:
            node.proc.kill()
            node.proc.wait(10)
            node.proc = None

    def stop(self) -> None:
        for node in self.nodes.values():
            if node.proc is not None and node.proc.poll() is None:
                node.proc.terminate()
                try:
                    node.proc.wait(10)
                except subprocess.TimeoutExpired:
                    node.proc.kill()
                    node.proc.wait(5)
            node.proc = None
