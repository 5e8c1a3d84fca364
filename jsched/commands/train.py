"""``jsched train METHOD [options]``: train a method's model with the one training driver."""

from __future__ import annotations

import argparse
import json

from jsched.commands._method import add_seed, given, options, refine


def register(sub) -> None:
    p = sub.add_parser("train", help="train a method's model (`jsched train M --help`: its options)")
    p.add_argument("method", nargs="?", help="a method with a model (`jsched methods` shows which methods train)")
    add_seed(p)
    p.set_defaults(func=run, refine_parser=lambda parser, args: refine(p, args.method, "train"))


def run(args: argparse.Namespace) -> int:
    import jsched
    from jsched.errors import JSchedError

    if args.method is None:
        raise JSchedError("train: name the method to train (e.g. `jsched train slim`)")
    summary = jsched.train(args.method, **given(args, "seed"), **options(args, args.method, "train"))
    print(json.dumps(summary, default=str))
    return 0
