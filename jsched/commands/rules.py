"""``jsched rules SET``: the table of every dispatching rule on a benchmark set."""

from __future__ import annotations

import argparse

from jsched.options import add_flags
from jsched.rules.method import Config


def register(sub) -> None:
    p = sub.add_parser("rules", help="table of every dispatching rule on a benchmark set")
    p.add_argument("set", help="benchmark set: taillard, dmu, brandimarte (or another set name of load_set)")
    add_flags(p, Config, skip=("machine_rule",))  # --candidates, default from the rules' Config
    p.add_argument("--rules", help="comma-separated subset of the rules (default: all)")
    p.add_argument("--out", help="write the table as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from jsched.rules.table import rule_table

    rule_table(args.set, args.candidates or Config.candidates, args.rules, args.out)
    return 0
