"""The deployment of deploy/compose.yaml as processes (issue 15 §4): three clustered nats-server
nodes from the generated nats.conf, streams at three replicas, and two replicas of every service
on PostgreSQL, each with the environment its container gets (read from the compose file, the
secrets' paths pointed at the files runtime.deploygen wrote). During a burst of report
submissions: kill -9 of one NATS node, then of the reports stream's leader, then of one replica of
reports and of notify, each restarted; and the shared clock moved so that deadline reminders fire
while both reports replicas run. Then a set checker: 0 acknowledged submissions lost, 0 events or
notifications doubled, each reminder sent once.

Three things differ from the containers, each said where it is done: loopback ports and temporary
folders; the PostgreSQL URL files name the test's databases (the superuser, not one role per
service: tests/deploy/test_postgres_init.py covers the roles); the clock is unlocked so that the
test pins it (time is an input). CONGDOAN_TOPOLOGY_BURST submissions (default 5,000); the figures
are printed (pytest -s) and written to <tmp>/topology.json."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
import pytest
import pytest_asyncio

from contracts.naming import SERVICES
from runtime.client import ApiClient, RequestFailed
from runtime.clock import TZ as VN_TZ
from runtime.deploygen import generate
from runtime.launcher import free_port, wait_for
from runtime.natsauth import connect_options
from runtime.redrive import parked
from tests.conftest import pin_clock, wait_until
from tests.deploy.compose import container_env, load
from tests.deploy.topology import Cluster
from tests.support import TEST_FORM, rows, settled, stream_events

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)]

BURST = int(os.environ.get("CONGDOAN_TOPOLOGY_BURST", "5000"))
REPLICAS = 2
UNITS = 40
PASSWORD = "Hoa-sen-no-2026"
SUBMITTED = "congdoan.evt.reports.report.submitted.v1"
APPROACHING = "congdoan.evt.reports.report.deadline_approaching.v1"
REMINDED = ("rem-1", "rem-2")  # due 30/11/2026: their 7-, 3- and 1-day reminders fire in the burst
REMINDERS_AT = datetime(2026, 11, 29, 12, 0, tzinfo=VN_TZ)


@dataclass
class Replica:
    service: str
    index: int
    env: dict[str, str]
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return f"{self.service}-{self.index}"

    def start(self) -> None:
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", f"services.{self.service}"], env=self.env,
                                     stdout=out, stderr=subprocess.STDOUT)

    def ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


@dataclass
class Deployment:
    cluster: Cluster
    secrets: Path
    databases: dict[str, str]
    replicas: dict[str, Replica] = field(default_factory=dict)
    tmp: Path = Path()

    def connect(self, user: str, **kw: Any) -> Any:
        return nats.connect(self.cluster.urls, **connect_options(user, creds=self.secrets / "nats" / f"{user}.nk"),
                            connect_timeout=5, reconnect_time_wait=0.2, max_reconnect_attempts=-1, **kw)

    def wait_ready(self, names: list[str] | None = None, timeout: float = 90) -> None:
        for name in names or list(self.replicas):
            wait_for(self.replicas[name].ready, timeout, f"{name} /readyz")


@pytest_asyncio.fixture
async def deployment(tmp_path: Path, make_db_url: Any) -> AsyncIterator[Deployment]:
    made = generate(tmp_path / "generated")
    generated = tmp_path / "generated"
    cluster = Cluster(made["nats_conf"], tmp_path / "nats")
    dbs = {svc: await make_db_url(svc) for svc in SERVICES}
    for svc, url in dbs.items():  # the file compose mounts as the service's database_url secret
        made[f"postgres_{svc}"].write_text(url)
    dep = Deployment(cluster, generated / "secrets", dbs, tmp=tmp_path)
    doc = load()
    logs = tmp_path / "logs"
    logs.mkdir()
    for svc in SERVICES:
        for i in range(REPLICAS):
            env = container_env(svc, generated, env={"CONGDOAN_NOTIFY_SMTP_URL": f"smtp://127.0.0.1:{free_port()}"},
                                doc=doc)
            assert env["CONGDOAN_STREAM_REPLICAS"] == "3" and env["CONGDOAN_CLOCK_LOCKED"] == "true"
            port = free_port()
            env.update({
                "NATS_URL": ",".join(cluster.urls),  # nats-1..3 on loopback
                f"CONGDOAN_{svc.upper()}_HTTP_PORT": str(port),
                "CONGDOAN_DATA_DIR": str(tmp_path / "data" / f"{svc}-{i}"),  # the container's tmpfs
                "CONGDOAN_CLOCK_LOCKED": "false",  # the test pins the shared clock
            })
            for k, v in env.items():
                if v.startswith("/var/lib/congdoan/"):
                    env[k] = str(tmp_path / "data" / v.removeprefix("/var/lib/congdoan/"))
            assert not any(v.startswith("/run/secrets/") for v in env.values()), env
            dep.replicas[f"{svc}-{i}"] = Replica(svc, i, {**_base_env(), **env}, port, logs / f"{svc}-{i}.log")
    try:
        cluster.start()
        nc = await dep.connect("operator")
        try:
            await pin_clock(nc)  # before any service starts: none of them sees today's date
        finally:
            await nc.close()
        for r in dep.replicas.values():
            r.start()
        await asyncio.to_thread(dep.wait_ready)
        yield dep
    finally:
        codes = {n: r.stop() for n, r in dep.replicas.items()}
        cluster.stop()
    assert all(c in (0, None) for c in codes.values()), f"unclean exit codes {codes}; logs in {logs}"


def _base_env() -> dict[str, str]:
    """What a container has besides the compose environment: a PATH and the interpreter's home."""
    keep = ("PATH", "HOME", "LANG", "VIRTUAL_ENV", "PYTHONPATH", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep}


async def _directory(loader: ApiClient) -> None:
    await loader.request("plans", "register_unit", {"unit_id": "prov", "code": "LĐLĐ", "name": "LĐLĐ tỉnh Bình Định",
                                                    "kind": "provincial_federation"})
    await loader.request("plans", "register_person", {"person_id": "chair", "unit_id": "prov",  # told of each report
                                                      "full_name": "Nguyễn Mạnh Hùng", "roles": ["chairperson"]})
    for i in range(UNITS):
        await loader.request("plans", "register_unit", {"unit_id": f"g{i}", "code": f"CĐCS-{i}",
                                                        "name": f"Công đoàn cơ sở số {i}", "kind": "grassroots_union",
                                                        "parent_id": "prov"})
        await loader.request("plans", "register_person", {"person_id": f"g{i}-c", "unit_id": f"g{i}",
                                                          "full_name": f"Cán bộ công đoàn số {i}", "roles": ["cadre"]})
        await loader.request("plans", "set_login", {"person_id": f"g{i}-c", "username": f"g{i}-c",
                                                    "password": PASSWORD, "must_change_password": False})


async def _requirements(loader: ApiClient, ids: list[str], due: str) -> None:
    async def form() -> bool:
        try:
            await loader.request("reports", "register_form", {"definition": TEST_FORM})
        except RequestFailed:
            return False
        return True

    await wait_until(form, timeout=30, what="reports to register the form")
    for rid in ids:
        async def opened(rid: str = rid) -> bool:  # 404 until reports knows the issuer from plans' events
            try:
                await loader.request("reports", "open_requirement", {
                    "requirement_id": rid, "name": f"Báo cáo thử nghiệm {rid}", "issuer_unit_id": "prov",
                    "reporting_kinds": ["grassroots_union"], "period": "2026", "due_date": due,
                    "form_id": TEST_FORM["form_id"]})
            except RequestFailed as exc:
                assert exc.code == "not_found", exc
                return False
            return True

        await wait_until(opened, timeout=30, what=f"reports to open {rid}")


async def _stream_leader(js: Any, stream: str) -> str:
    info = await js.stream_info(stream)
    assert info.config.num_replicas == 3, info.config
    return str(info.cluster.leader)


async def test_two_replicas_on_a_three_node_cluster_lose_nothing_double_nothing(deployment: Deployment,
                                                                               capsys: Any) -> None:
    dep = deployment
    client = await dep.connect("client")
    ops = await dep.connect("operator")
    figures: dict[str, Any] = {"burst": BURST, "replicas": REPLICAS, "faults": []}
    try:
        loader_secret = (dep.secrets / "clients" / "loader.secret").read_text().strip()
        loader = await ApiClient.for_service(client, "loader", loader_secret)
        await _directory(loader)
        burst_requirements = [f"req-{k}" for k in range(-(-BURST // UNITS))]
        await _requirements(loader, list(REMINDED), "2026-11-30")
        await _requirements(loader, burst_requirements, "2027-01-15")  # their reminders stay ahead
        cadres = [await ApiClient.login(client, f"g{i}-c", PASSWORD) for i in range(UNITS)]

        acknowledged: set[str] = set()
        refused: dict[str, int] = {}
        sem = asyncio.Semaphore(100)

        async def submit(i: int) -> None:
            rid = f"r-{i}"
            async with sem:
                try:
                    await cadres[i % UNITS].request("reports", "submit_report", {
                        "report_id": rid, "requirement_id": f"req-{i // UNITS}", "period": "2026",
                        "unit_id": f"g{i % UNITS}", "values": {"participants": i}}, timeout=20)
                except RequestFailed as exc:  # an outage may say so; nothing else may be refused
                    assert exc.code == "unavailable", (rid, exc)
                    refused[exc.code] = refused.get(exc.code, 0) + 1
                    return
                except Exception as exc:  # no answer (a node or a replica killed): not acknowledged
                    refused[type(exc).__name__] = refused.get(type(exc).__name__, 0) + 1
                    return
                acknowledged.add(rid)

        js = ops.jetstream(timeout=10)

        async def at(share: float) -> None:
            await wait_until(lambda: _true(len(acknowledged) >= BURST * share or all(t.done() for t in tasks)),
                             timeout=300, interval=0.1, what=f"{share:.0%} of the burst acknowledged")

        async def fault(name: str, act: Any) -> None:
            started = time.monotonic()
            await act()
            figures["faults"].append({"fault": name, "acknowledged_at": len(acknowledged),
                                      "seconds": round(time.monotonic() - started, 1)})

        async def kill_node(name: str) -> None:
            dep.cluster.kill(name)
            await asyncio.sleep(2)
            await asyncio.to_thread(dep.cluster.start, name, 60)

        async def kill_replica(name: str) -> None:
            dep.replicas[name].kill()
            await asyncio.sleep(1)
            dep.replicas[name].start()
            await asyncio.to_thread(dep.wait_ready, [name])

        started = time.monotonic()
        tasks = [asyncio.create_task(submit(i)) for i in range(BURST)]
        leader = await _stream_leader(js, "CONGDOAN_REPORTS")
        follower = next(n for n in dep.cluster.nodes if n != leader)
        await at(0.1)
        await fault(f"kill -9 {follower} (a follower)", lambda: kill_node(follower))
        await at(0.3)
        leader = await _stream_leader(js, "CONGDOAN_REPORTS")
        await fault(f"kill -9 {leader} (the reports stream's leader)", lambda: kill_node(leader))
        await at(0.5)
        await fault("kill -9 reports-0", lambda: kill_replica("reports-0"))
        await at(0.6)
        await fault("shared clock to 29/11/2026 12:00 (reminders due)", lambda: pin_clock(ops, REMINDERS_AT))
        await at(0.7)
        await fault("kill -9 notify-0", lambda: kill_replica("notify-0"))
        await asyncio.gather(*tasks)
        figures["burst_seconds"] = round(time.monotonic() - started, 1)
        figures["acknowledged"] = len(acknowledged)
        figures["refused"] = refused

        # --- settle, then the set checker -------------------------------------------------------
        urls = dep.databases

        await wait_until(lambda: settled(js, urls, reminders_due_by="2026-11-29 05:00:00+00"), timeout=300, interval=1,
                         what="the deployment to settle")
        stored = {r[0] for r in await rows(urls["reports"], "SELECT report_id FROM reports WHERE report_id LIKE 'r-%'")}
        reader = await dep.connect("subscriber")  # what an outside system reads
        try:
            submitted_all = await stream_events(reader, SUBMITTED, "CONGDOAN_REPORTS")
            approaching_all = await stream_events(reader, APPROACHING, "CONGDOAN_REPORTS")
        finally:
            await reader.close()
        submitted = [e for e in submitted_all
                     if e["data"]["report_id"].startswith("r-")]
        keys = [(e["data"]["report_id"], e["data"]["revision"]) for e in submitted]
        facts = await rows(urls["awards"], "SELECT report_id, revision FROM report_facts WHERE report_id LIKE 'r-%'")
        approaching = [e for e in approaching_all
                       if e["data"]["requirement_id"] in REMINDED]
        told = [(e["data"]["requirement_id"], e["data"]["unit_id"], e["data"]["days_before"]) for e in approaching]
        fired = await rows(urls["reports"], "SELECT key FROM reminders WHERE fired_at IS NOT NULL AND key LIKE 'rq:rem-%'")
        notified = {r[0]: r[1] for r in await rows(urls["notify"],
                                                  "SELECT event_id, count(*) FROM notifications GROUP BY event_id")}
        doubled_notices = await rows(urls["notify"], "SELECT event_id, recipient_id, channel, count(*) FROM notifications "
                                                      "GROUP BY event_id, recipient_id, channel HAVING count(*) > 1")
        dead = await parked(js)
        figures.update({
            "stored": len(stored), "events": len(keys), "awards_facts": len(facts),
            "lost": len(acknowledged - stored), "events_doubled": len(keys) - len(set(keys)),
            "facts_doubled": len(facts) - len(set(facts)), "reminders_fired": len(fired),
            "reminder_events": len(told), "reminder_events_doubled": len(told) - len(set(told)),
            "events_without_notification": len({e["id"] for e in submitted + approaching} - set(notified)),
            "notifications_doubled": len(doubled_notices), "parked": len(dead),
            "restarts_ok": True})
        (dep.tmp / "topology.json").write_text(json.dumps(figures, indent=2))
        with capsys.disabled():
            print("\ntopology", json.dumps(figures, ensure_ascii=False))

        assert acknowledged - stored == set(), "acknowledged submissions lost"
        assert stored <= {k[0] for k in keys}, "stored reports without their event"
        assert set(keys) == set(facts), "events awards did not count (or facts without an event)"
        assert figures["events_doubled"] == 0 and figures["facts_doubled"] == 0
        assert figures["events_without_notification"] == 0
        assert figures["notifications_doubled"] == 0
        # each reminder once: 2 requirements × 3 offsets, each to the units still missing (all of them)
        assert sorted(k for (k,) in fired) == sorted(f"rq:{q}:d{n}" for q in REMINDED for n in (7, 3, 1))
        assert figures["reminder_events_doubled"] == 0 and len(told) == len(REMINDED) * 3 * UNITS
        assert dead == [], [(p.durable, p.reason) for p in dead[:5]]
        assert len(acknowledged) >= BURST * 0.7, "the faults struck before enough was acknowledged to test anything"
    finally:
        await client.close()
        await ops.close()


async def _true(v: bool) -> bool:
    return v
