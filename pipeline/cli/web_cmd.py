"""`shinsei serve`, `shinsei user add NAME --role R`, `shinsei keys rotate`: the review page.

`serve` runs the FastAPI app (web/) with uvicorn on the same store as the pipeline. `user add`
takes the password from a prompt (twice) or, with --password-stdin, from one line of stdin.
`keys rotate` puts a new 個人番号 key first, re-encrypts every stored 個人番号 with it and then
drops the old keys from the key file.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from pipeline.errors import ShinseiError
from pipeline.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the review web page")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=serve)

    p = sub.add_parser("user", help="review page users")
    usub = p.add_subparsers(dest="user_command", required=True)
    a = usub.add_parser("add", help="add a user (or reset an existing user's password and role)")
    a.add_argument("name")
    a.add_argument("--role", choices=("reviewer", "supervisor", "admin"), required=True)
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    a.set_defaults(func=user_add)
    ls = usub.add_parser("list", help="list users")
    ls.set_defaults(func=user_list)

    p = sub.add_parser("keys", help="個人番号 encryption key")
    ksub = p.add_subparsers(dest="keys_command", required=True)
    r = ksub.add_parser("rotate", help="new key; re-encrypt every stored 個人番号; drop the old keys")
    r.set_defaults(func=keys_rotate)


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from web.app import create_app

    app = create_app(settings)
    print(f"shinsei review page: http://{args.host}:{args.port}/", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def user_add(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.store import open_store
    from pipeline.store.reviewing import ReviewDesk
    from web.security import hash_password

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ShinseiError("the two passwords differ", reason="bad_args")
    if len(password) < 8:
        raise ShinseiError("a password needs at least 8 characters", reason="bad_args")
    user = ReviewDesk(open_store(settings)).add_user(args.name, args.role, hash_password(password))
    print(f"user {user.name} ({user.role}) ready", file=sys.stderr)
    return 0


def user_list(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.store import open_store
    from pipeline.store.reviewing import ReviewDesk

    for u in ReviewDesk(open_store(settings)).list_users():
        print(f"{u.name}\t{u.role}\t{'active' if u.active else 'inactive'}")
    return 0


def keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from cryptography.fernet import Fernet

    from pipeline.store import crypto, open_store

    path = crypto.key_file_path(settings)
    store = open_store(settings)  # creates the key file when there is none yet
    old = crypto.read_keys(path)
    new_key = Fernet.generate_key()
    both = crypto.FieldCipher.from_keys([new_key, *old], Path(settings.data_dir))
    crypto.write_keys(path, [new_key, *old])  # a crash from here on still opens old and new tokens
    with store.transaction() as s:
        n = crypto.rotate_all(s, both)
    crypto.write_keys(path, [new_key])
    store.audit("admin-cli", "key_rotate", detail={"rows": n})
    print(f"re-encrypted {n} row(s); {path} now holds the new key only", file=sys.stderr)
    return 0
