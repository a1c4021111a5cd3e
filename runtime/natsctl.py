"""NATS users of a congdoan installation (README "Security"; the rules: runtime/natsauth.py).

    python -m runtime.natsctl init                          # the built-in users, if missing
    python -m runtime.natsctl list
    python -m runtime.natsctl add-user bi-warehouse --role subscriber [--note "…"]
    python -m runtime.natsctl add-user hr-portal --role client
    python -m runtime.natsctl rotate reports                # a new seed for one user
    python -m runtime.natsctl remove-user bi-warehouse
    python -m runtime.natsctl permissions subscriber        # what a user may publish and subscribe
    python -m runtime.natsctl config > accounts.conf        # the accounts block for your nats-server

Seeds are written to `--data-dir` (default `CONGDOAN_DATA_DIR` or `var`)/secrets/nats/<user>.nk,
0600; `users.json` beside them holds names, roles and public keys only. The embedded nats-server
of `make run` reads the users at every start: restart it after a change. An external server
includes the output of `config` (then `nats-server --signal reload`); processes whose seed was
rotated reconnect with the new one when restarted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from runtime.natsauth import INTEGRATOR_ROLES, NatsUsers, inbox_prefix, permissions


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m runtime.natsctl", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get("CONGDOAN_DATA_DIR", "var"))
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("init", help="make the built-in users' seeds if missing")
    sub.add_parser("list")
    add = sub.add_parser("add-user", help="a user for an integrator (a new seed if it exists)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=INTEGRATOR_ROLES)
    add.add_argument("--note", default="")
    rot = sub.add_parser("rotate", help="a new seed for a user")
    rot.add_argument("name")
    rm = sub.add_parser("remove-user")
    rm.add_argument("name")
    perm = sub.add_parser("permissions", help="the subjects a user may publish and subscribe to")
    perm.add_argument("name")
    sub.add_parser("config", help="print the accounts block of nats-server's configuration")
    args = p.parse_args(argv)
    users = NatsUsers(Path(args.data_dir) / "secrets" / "nats")
    try:
        if args.cmd == "init":
            for name, path in users.ensure_builtin().items():
                print(f"{name:<12} {path}")
        elif args.cmd == "list":
            for u in sorted(users.all().values(), key=lambda u: u.name):
                print(f"{u.name:<16} {u.role:<11} {u.nkey}  {u.note}")
        elif args.cmd == "add-user":
            path = users.add(args.name, args.role, note=args.note)
            print(f"user {args.name} ({args.role}): its nkey seed is {path} — hand it over privately.\n"
                  f"It connects with that seed and the reply inbox prefix {inbox_prefix(args.name)} "
                  f"(nats-py: nats.connect(url, nkeys_seed=…, inbox_prefix=\"{inbox_prefix(args.name)}\")).\n"
                  "Restart the embedded stack, or reload an external server with the output of `config`.")
        elif args.cmd == "rotate":
            path = users.rotate(args.name)
            print(f"new seed for {args.name} in {path}; restart the server (or reload it with `config`) and the "
                  "processes that connect as it")
        elif args.cmd == "remove-user":
            if not users.remove(args.name):
                print(f"natsctl: no user {args.name}", file=sys.stderr)
                return 1
            print(f"removed {args.name}; restart the server (or reload it with `config`) to shut it out")
        elif args.cmd == "permissions":
            found = users.all().get(args.name)
            role = found.role if found else args.name
            print(json.dumps(permissions(role, args.name).as_config(), indent=2))
        elif args.cmd == "config":
            if not users.all():
                users.ensure_builtin()
            sys.stdout.write(users.accounts_config())
    except (ValueError, KeyError) as exc:
        print(f"natsctl: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
