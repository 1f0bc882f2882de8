"""Operator commands: `python -m backend.cli init | load-demo`."""

import argparse
import json
import sys

from backend.core.config import get_settings
from backend.db.migrate import upgrade_to_head
from backend.db.session import SessionLocal, init_engine


def _init() -> None:
    settings = get_settings()
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    engine = init_engine(settings)
    upgrade_to_head(engine.url.render_as_string(hide_password=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="start the database if embedded, and migrate it to head")
    sub.add_parser("load-demo", help="store the MPEA demo split as two datasets")
    args = parser.parse_args(argv)
    _init()
    if args.command == "load-demo":
        from backend.services.demo import load_demo

        with SessionLocal() as session:
            print(json.dumps(load_demo(session, get_settings())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
