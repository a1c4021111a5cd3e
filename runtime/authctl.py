"""Operator commands for congdoan's identities (README "Security").

    python -m runtime.authctl init                       # the embedded stack's keys and loader client
    python -m runtime.authctl add-client hr-sync --roles directory_admin [--note "…"]
    python -m runtime.authctl list-clients
    python -m runtime.authctl remove-client hr-sync
    python -m runtime.authctl rotate-signing-key         # new key; old public keys stay in the JWKS

Files: `--data-dir` (default `CONGDOAN_DATA_DIR` or `var`)/secrets/, or the paths of
`CONGDOAN_AUTH_CLIENTS_FILE`, `CONGDOAN_AUTH_SIGNING_KEY_FILE`, `CONGDOAN_AUTH_JWKS_FILE`.
A client's secret is printed once, when it is made; only its hash is kept.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from runtime.access import SERVICE_ROLES
from runtime.auth import ClientRegistry, ensure_embedded_identities, generate_signing_key


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m runtime.authctl", description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=os.environ.get("CONGDOAN_DATA_DIR", "var"))
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("init", help="make the embedded stack's signing key and loader client if missing")
    add = sub.add_parser("add-client", help="add (or replace the secret of) a machine identity")
    add.add_argument("client_id")
    add.add_argument("--roles", required=True, help=f"comma-separated, of: {', '.join(sorted(SERVICE_ROLES))}")
    add.add_argument("--note", default="")
    rm = sub.add_parser("remove-client")
    rm.add_argument("client_id")
    sub.add_parser("list-clients")
    sub.add_parser("rotate-signing-key", help="a new signing key; tokens signed with the old one stay valid until "
                                              "they expire (restart plans to sign with the new one)")
    args = p.parse_args(argv)
    secrets = Path(args.data_dir) / "secrets"
    clients = ClientRegistry(Path(os.environ.get("CONGDOAN_AUTH_CLIENTS_FILE") or secrets / "clients.json"))
    if args.cmd == "init":
        for name, path in ensure_embedded_identities(secrets).items():
            print(f"{name:<14} {path}")
    elif args.cmd == "add-client":
        roles = {r.strip() for r in args.roles.split(",") if r.strip()}
        try:
            secret = clients.put(args.client_id, roles, note=args.note)
        except ValueError as exc:
            print(f"authctl: {exc}", file=sys.stderr)
            return 2
        print(f"client {args.client_id} ({', '.join(sorted(roles))}) — its secret, shown once:\n{secret}")
        print("plans re-reads the clients file by itself; the client asks congdoan.api.plans.v1.service_token.")
    elif args.cmd == "remove-client":
        if not clients.remove(args.client_id):
            print(f"authctl: no client {args.client_id}", file=sys.stderr)
            return 1
        print(f"removed {args.client_id}; its tokens expire within the access token lifetime")
    elif args.cmd == "list-clients":
        for c in clients.all():
            print(f"{c.client_id:<20} {','.join(sorted(c.roles)):<32} {c.note}")
    elif args.cmd == "rotate-signing-key":
        key = Path(os.environ.get("CONGDOAN_AUTH_SIGNING_KEY_FILE") or secrets / "jwt" / "signing-key.pem")
        jwks = Path(os.environ.get("CONGDOAN_AUTH_JWKS_FILE") or secrets / "jwt" / "jwks.json")
        kid = generate_signing_key(key, jwks, keep_old=True)
        print(f"new signing key {kid} in {key}; JWKS {jwks} keeps the previous public keys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
