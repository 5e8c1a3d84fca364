"""Hypothesis fuzzing of the instance parsers: any input gives an instance or a JSchedError.

About 4,300 random and mutated texts, byte strings and JSON documents in the default run.
"""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jsched.errors import InstanceFormatError, JSchedError
from jsched.instances import FJSPInstance, JSPInstance
from jsched.instances.generators import sd1_fjsp, sd2_fjsp, taillard_jsp
from jsched.instances.io import (
    _sniff,
    decode_text,
    fjsp_text,
    instance_from_json,
    instance_to_json,
    jsp_text,
    parse_fjsp_text,
    parse_jsp_text,
    parse_text,
)

FAST = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Valid seeds to mutate: small JSP/FJSP instances in every text form.
_SEEDS = [
    jsp_text(taillard_jsp(3, 3, 0)),
    jsp_text(taillard_jsp(2, 4, 1)),
    fjsp_text(sd1_fjsp(3, 3, 2)),
    fjsp_text(sd2_fjsp(2, 3, 3)),
    json.dumps(instance_to_json(taillard_jsp(2, 2, 4))),
    json.dumps(instance_to_json(sd2_fjsp(2, 2, 5))),
    "2 3\n1 2 3\n4 5 6\n1 2 3\n3 1 2\n",  # Taillard matrix layout
]
_TOKENS = ["0", "1", "2", "3", "-1", "7", "99", "1.5", "x", "", "\n", " ", "#", "Times", "Machines", "1e9", "99999999999", "{", "]", '"', "\x00", "\t",
           "nan", "inf", "NaN", "Infinity", "1_0", "\uff13", "9" * 40, "9" * 5000, "2147483647", "1073741824"]


def _check(fn, text: str):
    try:
        out = fn(text)
    except JSchedError as e:
        assert "\n" not in str(e)  # the CLI prints one line
        return None
    assert isinstance(out, (JSPInstance, FJSPInstance))
    assert (out.durations >= 0).all()
    return out


PARSERS = [
    lambda t: parse_jsp_text(t, "f.txt"),
    lambda t: parse_fjsp_text(t, "f.fjs"),
    lambda t: instance_from_json(t, "f.json"),
    lambda t: parse_text(t, _sniff(t), "f"),
]


@FAST
@given(st.text(alphabet=st.sampled_from(list("0123456789 \n\t-.#xabT{}[]:,\"")), max_size=200))
def test_random_text_never_crashes(text):
    for p in PARSERS:
        _check(p, text)


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(_SEEDS))
    toks = text.replace("\n", " \n ").split(" ")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "dupline", "dropline"]))
        i = draw(st.integers(0, max(len(toks) - 1, 0)))
        if op == "delete" and toks:
            del toks[i]
        elif op == "insert":
            toks.insert(i, draw(st.sampled_from(_TOKENS)))
        elif op == "replace" and toks:
            toks[i] = draw(st.sampled_from(_TOKENS))
        elif op == "truncate":
            toks = toks[:i]
        else:
            lines = " ".join(toks).split("\n")
            k = draw(st.integers(0, len(lines) - 1))
            lines = lines[: k + 1] + lines[k:] if op == "dupline" else lines[:k] + lines[k + 1 :]
            toks = "\n".join(lines).split(" ")
    return " ".join(toks)


@FAST
@given(mutated())
def test_mutated_valid_files_never_crash(text):
    for p in PARSERS:
        _check(p, text)


@FAST
@given(st.binary(max_size=64))
def test_random_bytes_never_crash(data):
    try:
        text = decode_text(data, "f.bin")
    except InstanceFormatError as e:
        assert e.line is not None and e.line >= 1
        return
    for p in PARSERS:
        _check(p, text)


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 5), st.floats(allow_nan=True), st.text(max_size=5),
                       st.sampled_from([2**31 - 1, 2**31, 10**100, -(10**100)]))
_json = st.recursive(_json_leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(
    ["kind", "n_machines", "jobs", "machine", "duration", "machines", "durations", "release", "due", "name", "version", "format"]
), c, max_size=5), max_leaves=12)  # fmt: skip


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["jsp", "fjsp"]), st.integers(-1, 4), _json)
@example("jsp", 1, {"version": "\n"})  # found by a long run: data text must not break the one-line message
@example("jsp", 1, {"kind": "jsp", "n_machines": 1, "name": "a\nb", "jobs": [[{"machine": 0, "duration": 1}]]})
def test_random_json_never_crashes(kind, n_machines, jobs):
    doc = {"kind": kind, "n_machines": n_machines, "jobs": jobs}
    _check(lambda t: instance_from_json(t, "f.json"), json.dumps(doc))
    _check(lambda t: instance_from_json(t, "f.json"), json.dumps(jobs))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_generated_instances_round_trip(n, m, seed):
    for inst in (taillard_jsp(n, m, seed), sd2_fjsp(n, m, seed % 2**31), sd1_fjsp(n, m, seed)):
        text = jsp_text(inst) if isinstance(inst, JSPInstance) else fjsp_text(inst)
        back = parse_text(text, _sniff(text))
        assert type(back) is type(inst)
        for k in ("durations",):
            assert np.array_equal(getattr(back, k), getattr(inst, k))
