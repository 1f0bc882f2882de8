"""Operator commands: `python -m backend.cli init | load-demo | create-admin NAME`; and the
researcher's, against a running server: `submit | status | export | compare`
(backend/research_cli.py)."""

import argparse
import getpass
import json
import os
import sys

from backend import research_cli
from backend.core.config import get_settings
from backend.core.vocabulary import Role
from backend.db.migrate import upgrade_to_head
from backend.db.session import init_engine, unit_of_work


def _init() -> None:
    settings = get_settings()
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    engine = init_engine(settings)
    upgrade_to_head(engine.url.render_as_string(hide_password=False))


def _create_user(username: str, role: str) -> int:
    """The password comes from ADMIN_PASSWORD or a prompt; never from the command line."""
    from backend.core.errors import DomainError
    from backend.services.accounts import create_user

    password = os.environ.get("ADMIN_PASSWORD") or getpass.getpass(f"password for {username}: ")
    try:
        with unit_of_work() as session:
            create_user(session, username, password, role)
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created {role} {username}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="start the database if embedded, and migrate it to head")
    sub.add_parser("load-demo", help="store the MPEA demo split as two datasets")
    admin = sub.add_parser("create-admin", help="create an admin account (asks for the password)")
    admin.add_argument("username")
    admin.add_argument("--role", default="admin", choices=list(Role))
    research_cli.add_commands(sub)
    args = parser.parse_args(argv)
    if args.command in research_cli.COMMANDS:
        return research_cli.run(args)  # over HTTP: no database here
    _init()
    if args.command == "create-admin":
        return _create_user(args.username, args.role)
    if args.command == "load-demo":
        from backend.services.demo import load_demo

        with unit_of_work() as session:
            paths = load_demo(session, get_settings())
        print(json.dumps(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
