"""A plain-Python colored timed Petri net of a JSP: the slow, explicit reference for kernels.petri.

Places hold lists of colored tokens ``(job, op)``; transitions are checked one by one; time
advances event by event (the earliest running token finishes, fires ``finish_m``, and the guard
is re-checked). It mirrors ``jsched.kernels.petri`` (same places, transitions, guard and non-delay
semantics) without sharing any code, so tests can compare the two; ``bench/hh.py`` uses it as
the plain-Python baseline for steps per second. The rules are re-implemented here from their
written definitions (the HH paper's, e.g. LWT as the total wait of the job's tokens).
"""

from __future__ import annotations

import heapq

import numpy as np

from jsched.instances.model import JSPInstance


class PyPetriNet:
    """Event-driven CTPN with explicit token lists.

    Attributes:
        queue: per job, the list of its remaining tokens (head first).
        buffer, proc: per machine, tokens waiting / being processed (proc holds (job, op, end)).
        idle: per machine, 1 if its resource token is present.
        finished: completed tokens.
        time: the clock; start: dict (job, op) -> start time.
    """

    def __init__(self, inst: JSPInstance):
        self.inst = inst
        self.J, self.O = inst.machines.shape
        self.M = inst.n_machines
        self.queue = [[(j, i) for i in range(self.O)] for j in range(self.J)]
        self.buffer: list[list] = [[] for _ in range(self.M)]
        self.proc: list[list] = [[] for _ in range(self.M)]
        self.idle = [1] * self.M
        self.finished: list = []
        self.time = 0
        self.start: dict[tuple[int, int], int] = {}
        self.arrival = [int(r) for r in inst.release]  # time the head token reached the queue head
        self.waited = [0] * self.J
        self.job_busy = [False] * self.J
        self.events: list[tuple[int, int]] = []  # heap of (end time, machine)
        self._advance()

    # -- guard and firing ---------------------------------------------------------------
    def enabled(self) -> list[int]:
        """Jobs whose allocate transition is enabled now."""
        out = []
        for j in range(self.J):
            if not self.queue[j] or self.job_busy[j] or self.arrival[j] > self.time:
                continue
            m = int(self.inst.machines[j, self.queue[j][0][1]])
            if self.idle[m]:
                out.append(j)
        return out

    def allocate(self, j: int) -> None:
        if j not in self.enabled():
            raise ValueError(f"allocate_{j} is not enabled at time {self.time}")
        tok = self.queue[j].pop(0)
        m = int(self.inst.machines[j, tok[1]])
        self.buffer[m].append(tok)
        # start_m: immediate, buffer_m + idle_m -> proc_m.
        tok = self.buffer[m].pop(0)
        self.idle[m] = 0
        end = self.time + int(self.inst.durations[j, tok[1]])
        self.proc[m].append((j, tok[1], end))
        self.start[(j, tok[1])] = self.time
        self.waited[j] += self.time - self.arrival[j]
        self.job_busy[j] = True
        heapq.heappush(self.events, (end, m))
        self._advance()

    def _finish(self, m: int) -> None:
        j, op, end = self.proc[m].pop()
        self.finished.append((j, op))
        self.idle[m] = 1
        self.job_busy[j] = False
        self.arrival[j] = end

    def _advance(self) -> None:
        # Fire finish transitions due now (zero-length ops), then jump event by event.
        while self.events and self.events[0][0] <= self.time:
            self._finish(heapq.heappop(self.events)[1])
        while not self.enabled() and not self.done():
            nxt = [e for e, _ in self.events[:1]]
            nxt += [a for j, a in enumerate(self.arrival) if self.queue[j] and not self.job_busy[j] and a > self.time]
            self.time = min(nxt)
            while self.events and self.events[0][0] <= self.time:
                self._finish(heapq.heappop(self.events)[1])

    def done(self) -> bool:
        return not any(self.queue)

    def makespan(self) -> int:
        return max((t + int(self.inst.durations[j, o]) for (j, o), t in self.start.items()), default=0)

    def marking(self) -> np.ndarray:
        """Token counts in kernels.petri's order: queue, buffer, proc, idle, finished."""
        return np.array(
            [len(q) for q in self.queue]
            + [len(b) for b in self.buffer]
            + [len(p) for p in self.proc]
            + list(self.idle)
            + [len(self.finished)]
        )

    def start_array(self) -> np.ndarray:
        s = np.full((self.J, self.O), -1, np.int64)
        for (j, o), t in self.start.items():
            s[j, o] = t
        return s

    # -- rules, from their written definitions --------------------------------------------
    def rule_choice(self, name: str) -> int:
        """The enabled job rule ``name`` (a key of ``kernels.rules.RULES``) picks; ties: lowest index."""
        en = self.enabled()
        durs = self.inst.durations

        def key(j):
            i = self.O - len(self.queue[j])
            work = int(durs[j, i:].sum())
            p = int(durs[j, i])
            p_next = int(durs[j, i + 1]) if i + 1 < self.O else 0
            left = len(self.queue[j])
            wait = self.waited[j] + max(self.time - self.arrival[j], 0)
            return {
                "fifo": (-self.arrival[j],),
                "spt": (-p,),
                "lpt": (p,),
                "sps": (-self.O,),
                "sps_fifo": (-self.O, -self.arrival[j]),
                "ltwr": (work,),
                "mwkr": (work,),
                "lwkr": (-work,),
                "spsr": (-left,),
                "lptn": (p_next,),
                "lwt": (wait,),
                "mor": (left,),
                "lor": (-left,),
            }[name]

        return max(en, key=lambda j: (key(j), -j))


def run_rule(inst: JSPInstance, name: str) -> PyPetriNet:
    """Complete episode of the plain net under one rule."""
    net = PyPetriNet(inst)
    while not net.done():
        net.allocate(net.rule_choice(name))
    return net
