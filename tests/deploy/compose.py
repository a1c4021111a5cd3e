"""Reading deploy/compose.yaml the way Compose does for what the tests need: YAML with merge
keys, `${VAR:-default}` interpolation, a service's environment."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
_VAR = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>\w+)")


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    env = dict(os.environ) if env is None else env

    def sub(m: re.Match[str]) -> str:
        name = m.group("name") or m.group("bare")
        got = env.get(name)
        op, arg = m.group("op"), m.group("arg") or ""
        if op in (":-", "-"):
            return got if got and (op == "-" or got) else arg
        if op in (":?", "?") and not got:
            raise KeyError(f"{name}: {arg}")
        return got or ""

    return _VAR.sub(sub, value.replace("$$", "\0")).replace("\0", "$")


def load(path: Path = COMPOSE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def environment(service: str, env: dict[str, str] | None = None, doc: dict[str, Any] | None = None) -> dict[str, str]:
    """The environment Compose gives a service's container (interpolated with `env`, default: none set)."""
    doc = doc or load()
    raw = doc["services"][service].get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {k: interpolate(str(v), env if env is not None else {}) for k, v in raw.items()}


def secret_mounts(service: str, generated: Path, doc: dict[str, Any] | None = None) -> dict[str, Path]:
    """Where a service's container sees each secret (`/run/secrets/<target>`) → the file Compose
    mounts there, with the compose file's `./generated/` folder read as `generated`."""
    doc = doc or load()
    out: dict[str, Path] = {}
    for item in doc["services"][service].get("secrets") or []:
        source, target = (item, item) if isinstance(item, str) else (item["source"], item.get("target", item["source"]))
        file = Path(doc["secrets"][source]["file"])
        out[f"/run/secrets/{target}"] = generated / file.relative_to("generated")
    return out


def container_env(service: str, generated: Path, env: dict[str, str] | None = None,
                  doc: dict[str, Any] | None = None) -> dict[str, str]:
    """A service's environment as in its container, the secrets' paths pointed at their files."""
    doc = doc or load()
    mounts = secret_mounts(service, generated, doc)
    return {k: str(mounts.get(v, v)) for k, v in environment(service, env, doc).items()}
