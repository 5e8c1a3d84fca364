"""``jsched methods``: every method, the problems it solves, its verbs and its options."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("methods", help="list the methods, their problems, verbs and options")
    p.add_argument("--options", action="store_true", help="also list each method's solve options and defaults")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import jsched

    for name, m in jsched.methods().items():
        print(f"{name:<8} {'/'.join(m.problems):<13} {','.join(m.verbs):<23} {m.help}")
        if args.options:
            for opt, typ, default, help_text in m.options:
                print(f"    --{opt.replace('_', '-'):<20} {typ:<12} {default!s:<12} {help_text}")
    return 0
