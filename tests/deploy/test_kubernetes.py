"""deploy/k8s: the Kustomize base and production overlay, rendered here the way kustomize does
for what they use (namespace, images, replicas, a strategic-merge patch of env, the generated
Secrets), then validated against the Kubernetes schemas kubernetes-validate ships (offline,
strict); what every workload must hold (probes, resources, non-root read-only root file system,
a PodDisruptionBudget, credentials from Secrets that exist with the keys mounted); and the
values file of the official nats Helm chart."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.naming import SERVICES
from runtime.deploygen import NATS_ACCOUNTS_CONFIGMAP, generate
from tests.deploy.compose import ROOT

K8S = ROOT / "deploy" / "k8s"
APPS = (*SERVICES, "web")
K8S_VERSION = "1.30.0"


def docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def build(folder: Path, generated: Path) -> list[dict[str, Any]]:
    """A kustomization's resources, with the transformers this repository uses."""
    k = yaml.safe_load((folder / "kustomization.yaml").read_text())
    out: list[dict[str, Any]] = []
    for res in k.get("resources", []):
        path = (folder / res).resolve()
        if path == (ROOT / "deploy" / "generated").resolve():
            path = generated
        if path.is_dir():
            out += build(path, generated)
        else:
            out += docs(path)
    base_dir = folder
    for gen in k.get("secretGenerator", []):
        data = {}
        for f in gen["files"]:
            key, _, rel = f.partition("=")
            data[key] = base64.b64encode((base_dir / rel).read_bytes()).decode()
        out.append({"apiVersion": "v1", "kind": "Secret", "type": gen.get("type", "Opaque"),
                    "metadata": {"name": gen["name"]}, "data": data})
    for gen in k.get("configMapGenerator", []):
        data = {Path(f).name: (base_dir / f).read_text() for f in gen["files"]}
        out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]}, "data": data})
    if not k.get("generatorOptions", {}).get("disableNameSuffixHash") and (k.get("secretGenerator") or k.get("configMapGenerator")):
        raise AssertionError("generated names must be stable: base refers to them")
    for patch in k.get("patches", []):
        _merge_patch(out, yaml.safe_load((folder / patch["path"]).read_text()))
    for r in k.get("replicas", []):
        target = [d for d in out if d["kind"] == "Deployment" and d["metadata"]["name"] == r["name"]]
        assert target, f"replicas for unknown {r['name']}"
        target[0]["spec"]["replicas"] = r["count"]
    for img in k.get("images", []):
        for d in out:
            for c in _containers(d):
                if c["image"].split(":")[0] == img["name"]:
                    c["image"] = f"{img.get('newName', img['name'])}:{img['newTag']}"
    if ns := k.get("namespace"):
        for d in out:
            if d["kind"] != "Namespace":
                d["metadata"]["namespace"] = ns
    for lab in k.get("labels", []):
        for d in out:
            d["metadata"].setdefault("labels", {}).update(lab["pairs"])
    return out


def _containers(d: dict[str, Any]) -> list[dict[str, Any]]:
    return d.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []) if d["kind"] == "Deployment" else []


def _merge_patch(out: list[dict[str, Any]], patch: dict[str, Any]) -> None:
    target = [d for d in out if d["kind"] == patch["kind"] and d["metadata"]["name"] == patch["metadata"]["name"]]
    assert target, f"patch of unknown {patch['kind']}/{patch['metadata']['name']}"
    for pc in patch["spec"]["template"]["spec"]["containers"]:
        (c,) = [c for c in _containers(target[0]) if c["name"] == pc["name"]]
        env = {e["name"]: e for e in c.get("env", [])}
        env.update({e["name"]: e for e in pc.get("env", [])})
        c["env"] = list(env.values())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    generated = tmp_path_factory.mktemp("deploy") / "generated"
    generate(generated)
    return build(K8S / "overlays" / "production", generated)


def test_valid_against_the_kubernetes_schemas(rendered: list[dict[str, Any]]) -> None:
    kv = pytest.importorskip("kubernetes_validate")
    errors = []
    for d in rendered:
        try:
            kv.validate(copy.deepcopy(d), K8S_VERSION, strict=True)
        except kv.ValidationError as exc:
            errors.append(f"{d['kind']}/{d['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not errors, "\n".join(errors)


def test_the_validator_catches_a_mistake(rendered: list[dict[str, Any]]) -> None:
    kv = pytest.importorskip("kubernetes_validate")
    bad = copy.deepcopy(next(d for d in rendered if d["kind"] == "Deployment"))
    bad["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"path": "/readyz"}}  # no port
    with pytest.raises(kv.ValidationError):
        kv.validate(bad, K8S_VERSION, strict=True)


def test_every_workload(rendered: list[dict[str, Any]]) -> None:
    by = {(d["kind"], d["metadata"]["name"]): d for d in rendered}
    assert all(d["metadata"].get("namespace") == "congdoan" for d in rendered if d["kind"] != "Namespace")
    for app in APPS:
        dep = by[("Deployment", f"congdoan-{app}")]
        pod = dep["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        assert c["command"] == ["python", "-m", f"services.{app}"]
        assert c["image"] == "registry.example.vn/congdoan:0.1.0"
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz" and "startupProbe" in c
        assert c["resources"]["requests"]["cpu"] and c["resources"]["limits"]["memory"]
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert {"/tmp", "/var/lib/congdoan", "/run/secrets"} <= mounts
        assert dep["spec"]["replicas"] >= 2
        pdb = by[("PodDisruptionBudget", f"congdoan-{app}")]
        assert pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
        assert pdb["spec"]["minAvailable"] == 1
        svc = by[("Service", f"congdoan-{app}")]
        assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        cm = by[("ConfigMap", "congdoan-env")]["data"]
        assert cm["CONGDOAN_STREAM_REPLICAS"] == "3"
        for name, value in {**cm, **env}.items():
            if any(w in name for w in ("PASSWORD", "SECRET", "TOKEN")) or name.endswith("_KEY"):
                assert name.endswith("_FILE") and value.startswith("/run/secrets/"), name
            assert "postgresql" not in (value or "")
        # every projected Secret key exists in a Secret the overlay makes
        (secrets,) = [v for v in pod["volumes"] if v["name"] == "secrets"]
        paths = set()
        for src in secrets["projected"]["sources"]:
            s = by[("Secret", src["secret"]["name"])]
            for item in src["secret"]["items"]:
                assert item["key"] in s["data"], (app, src["secret"]["name"], item["key"])
                paths.add(item["path"])
        for value in {**cm, **env}.values():
            if value and value.startswith("/run/secrets/"):
                assert value.removeprefix("/run/secrets/") in paths, (app, value)
    assert by[("Deployment", "congdoan-reports")]["spec"]["replicas"] == 3  # the overlay's
    notify_env = {e["name"]: e.get("value") for e in _containers(by[("Deployment", "congdoan-notify")])[0]["env"]}
    assert notify_env["CONGDOAN_NOTIFY_SMTP_URL"].startswith("smtp://")
    assert "accounts" in by[("ConfigMap", NATS_ACCOUNTS_CONFIGMAP)]["data"]["accounts.conf"]


def test_nats_chart_values() -> None:
    """The layout of the official chart's values (nats-io/k8s helm/charts/nats, checked against
    its values.yaml): three clustered replicas, JetStream on file storage with sync_interval
    always, monitoring, congdoan's accounts included from the generated ConfigMap."""
    v = yaml.safe_load((K8S / "nats-values.yaml").read_text())
    cfg = v["config"]
    assert cfg["cluster"] == {"enabled": True, "replicas": 3}
    js = cfg["jetstream"]
    assert js["enabled"] and js["fileStore"]["enabled"] and js["fileStore"]["pvc"]["enabled"]
    assert js["memoryStore"]["enabled"] is False
    assert js["merge"]["sync_interval"] == "always"
    assert cfg["monitor"] == {"enabled": True, "port": 8222}
    include = [val for key, val in cfg["merge"].items() if key.endswith("$include")]
    assert include == ["congdoan/accounts.conf"]
    (mount,) = [p["value"] for p in v["container"]["patch"] if p["path"] == "/volumeMounts/-"]
    assert mount["mountPath"] == "/etc/nats-config/congdoan"  # includes are relative to /etc/nats-config
    (vol,) = [p["value"] for p in v["podTemplate"]["patch"] if p["path"] == "/spec/volumes/-"]
    assert vol["name"] == mount["name"] and vol["configMap"]["name"] == NATS_ACCOUNTS_CONFIGMAP
    known = {"global", "config", "container", "reloader", "promExporter", "service", "statefulSet", "podTemplate",
             "headlessService", "configMap", "podDisruptionBudget", "serviceAccount", "natsBox", "extraResources",
             "nameOverride", "fullnameOverride", "namespaceOverride", "tlsCA"}
    assert set(v) <= known, set(v) - known
