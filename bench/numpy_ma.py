"""The memetic algorithm of ``kernels/pfsp.py`` in numpy: the CPU baselines ``bench/dac.py`` times.

:class:`NumpyMA` is vectorised over the population; ``per_individual=True`` is the textbook loop,
one individual at a time. Decoding and operators are the kernel's (the decoder is tested equal on
random keys); random streams differ from jax's, so runs are not bit-identical.
"""

from __future__ import annotations

import numpy as np

from jsched.instances.pfsp import PFSPInstance


def _lex_less(ka, ia, kb, ib):
    return (ka < kb) | ((ka == kb) & (ia < ib))


class NumpyMA:
    def __init__(self, inst: PFSPInstance, pop_size: int = 250, ls_steps: int = 2, per_individual: bool = False):
        self.inst = inst
        self.d = inst.durations.astype(np.int64)
        self.pw = inst.power
        self.h = inst.horizon
        self.dd = inst.power.shape[2]
        self.pop_size = pop_size
        self.ls_steps = ls_steps
        self.per_individual = per_individual
        self.penalty = 0.25 * float(inst.carbon.max()) * float(inst.power.sum()) + 1.0

    # ------------------------------------------------------------------ vectorised decoding
    def fitness(self, jk: np.ndarray, pk: np.ndarray, seq: np.ndarray | None = None) -> np.ndarray:
        if self.per_individual:
            return np.array([self.fitness_one(jk[i], pk[i], None if seq is None else seq[i]) for i in range(jk.shape[0])])
        return self.decode(jk, pk, seq)[1]

    def decode(self, jk: np.ndarray, pk: np.ndarray, seq: np.ndarray | None = None):
        """(P, N) job keys, (P, N, M) pause keys -> (start (P, N, M) by job, fitness (P,)).

        ``seq``: the (P, N) sequences if known (the keys' stable argsort).
        """
        p, n = jk.shape
        m = self.d.shape[1]
        if seq is None:
            seq = np.argsort(jk, axis=1, kind="stable")
        d = self.d[seq]  # (P, N, M) by position
        c = np.zeros((p, m), np.int64)
        for i in range(n):  # no-idle makespan of each sequence
            prev = np.zeros(p, np.int64)
            for k in range(m):
                prev = c[:, k] = np.maximum(prev, c[:, k]) + d[:, i, k]
        slack = np.maximum(self.h - c.max(axis=1), 0)[:, None, None]
        idle = np.minimum(np.floor(pk.astype(np.float32) * (slack + 1).astype(np.float32)).astype(np.int64), slack)
        idle = np.where(d > 0, idle, 0)
        s_pos = np.empty_like(d)
        c = np.zeros((p, m), np.int64)
        for i in range(n):
            prev = np.zeros(p, np.int64)
            for k in range(m):
                s_pos[:, i, k] = np.maximum(prev, c[:, k]) + idle[:, i, k]
                prev = c[:, k] = s_pos[:, i, k] + d[:, i, k]
        start = np.empty_like(s_pos)
        np.put_along_axis(start, seq[:, :, None], s_pos, axis=1)
        width = self.h + self.dd + int(start.max(initial=0)) + 1
        idx = start[:, :, :, None] + np.arange(self.dd)
        flat = (np.arange(p)[:, None, None, None] * width + idx).ravel()
        load = np.bincount(flat, np.broadcast_to(self.pw, idx.shape).ravel(), minlength=p * width)
        load = load.reshape(p, width)[:, : self.h]
        em = 0.25 * (np.maximum(load - self.inst.generation, 0.0) @ self.inst.carbon)
        excess = np.maximum((start + self.d).max(axis=(1, 2)) - self.h, 0)
        return start, np.where(excess > 0, em + self.penalty * (1.0 + excess), em)

    # -------------------------------------------------------------- one-at-a-time decoding
    def fitness_one(self, jk: np.ndarray, pk: np.ndarray, seq=None) -> float:
        n, m = self.d.shape
        if seq is None:
            seq = sorted(range(n), key=lambda j: (jk[j], j))
        c = [0] * m
        for j in seq:
            prev = 0
            for k in range(m):
                prev = c[k] = max(prev, c[k]) + int(self.d[j, k])
        slack = max(self.h - max(c), 0)
        c = [0] * m
        load = np.zeros(self.h + self.dd + n * m * (self.dd + self.h) + 1)
        end = 0
        for i, j in enumerate(seq):
            prev = 0
            for k in range(m):
                dj = int(self.d[j, k])
                idle = min(int(np.floor(np.float32(pk[i, k]) * np.float32(slack + 1))), slack) if dj else 0
                s = max(prev, c[k]) + idle
                load[s : s + dj] += self.pw[j, k, :dj]
                prev = c[k] = s + dj
                end = max(end, prev)
        em = 0.25 * float(np.maximum(load[: self.h] - self.inst.generation, 0.0) @ self.inst.carbon)
        return em + self.penalty * (1.0 + end - self.h) if end > self.h else em

    # ------------------------------------------------------------------------- the MA
    def init(self, rng: np.random.Generator, init_pause_prob: float = 0.2):
        n, m = self.d.shape
        jk = rng.random((self.pop_size, n))
        pk = np.where(rng.random((self.pop_size, n, m)) < init_pause_prob, rng.random((self.pop_size, n, m)), 0.0)
        jk[0] = (np.arange(n) + 0.5) / n
        pk[0] = 0.0
        return jk, pk, self.fitness(jk, pk)

    def generation(self, rng: np.random.Generator, cfg: dict, pop):
        if self.per_individual:
            return self._generation_loop(rng, cfg, pop)
        jk0, pk0, fit0 = pop
        p = self.pop_size
        a = rng.integers(0, p, (2, p))
        b = rng.integers(0, p, (2, p))
        ia = np.where(fit0[a[0]] <= fit0[a[1]], a[0], a[1])
        ib = np.where(fit0[b[0]] <= fit0[b[1]], b[0], b[1])
        is_cx = np.arange(p) < round(cfg["xi"] * p)
        sj = (rng.random(jk0.shape) < cfg["chi_j"]) & is_cx[:, None]
        sp = (rng.random(pk0.shape) < cfg["chi_p"]) & is_cx[:, None, None]
        jk = np.where(sj, jk0[ib], jk0[ia])
        pk = np.where(sp, pk0[ib], pk0[ia])
        jk = np.clip(np.where(rng.random(jk.shape) < cfg["pi_j"], jk + cfg["sigma_j"] * rng.standard_normal(jk.shape), jk), 0, 1)
        pk = np.clip(np.where(rng.random(pk.shape) < cfg["pi_p"], pk + cfg["sigma_p"] * rng.standard_normal(pk.shape), pk), 0, 1)
        seq = np.argsort(jk, axis=1, kind="stable")
        fit = self.fitness(jk, pk, seq)
        n = jk.shape[1]
        rows = np.arange(p)
        for _ in range(self.ls_steps):
            if n < 2:
                break
            pos = rng.integers(0, n - 1, p)
            ja, jb = seq[rows, pos], seq[rows, pos + 1]
            ka, kb = jk[rows, ja], jk[rows, jb]
            kbefore = jk[rows, seq[rows, np.maximum(pos - 1, 0)]]
            kafter = jk[rows, seq[rows, np.minimum(pos + 2, n - 1)]]
            ok = (ka != kb) & ((pos == 0) | _lex_less(kbefore, seq[rows, np.maximum(pos - 1, 0)], ka, jb))
            ok &= (pos + 2 >= n) | _lex_less(kb, ja, kafter, seq[rows, np.minimum(pos + 2, n - 1)])
            cand = jk.copy()
            cand[rows, ja], cand[rows, jb] = kb, ka
            cseq = seq.copy()
            cseq[rows, pos], cseq[rows, pos + 1] = jb, ja
            cf = self.fitness(cand, pk, cseq)
            better = (cf < fit) & ok
            jk = np.where(better[:, None], cand, jk)
            seq = np.where(better[:, None], cseq, seq)
            fit = np.where(better, cf, fit)
        return self._select(jk0, pk0, fit0, jk, pk, fit)

    def _select(self, jk0, pk0, fit0, jk, pk, fit):
        all_fit = np.concatenate([fit0, fit])
        keep = np.argsort(all_fit, kind="stable")[: self.pop_size]
        return np.concatenate([jk0, jk])[keep], np.concatenate([pk0, pk])[keep], all_fit[keep]

    def _generation_loop(self, rng, cfg, pop):
        jk0, pk0, fit0 = pop
        p, n = jk0.shape
        kids_j, kids_p, kids_f = [], [], []
        for c in range(p):
            pa = [int(rng.integers(0, p)) for _ in range(2)]
            pb = [int(rng.integers(0, p)) for _ in range(2)]
            a = pa[0] if fit0[pa[0]] <= fit0[pa[1]] else pa[1]
            b = pb[0] if fit0[pb[0]] <= fit0[pb[1]] else pb[1]
            j, q = jk0[a].copy(), pk0[a].copy()
            if c < round(cfg["xi"] * p):
                sj = rng.random(n) < cfg["chi_j"]
                sq = rng.random(q.shape) < cfg["chi_p"]
                j[sj], q[sq] = jk0[b][sj], pk0[b][sq]
            mj = rng.random(n) < cfg["pi_j"]
            j[mj] += cfg["sigma_j"] * rng.standard_normal(int(mj.sum()))
            mq = rng.random(q.shape) < cfg["pi_p"]
            q[mq] += cfg["sigma_p"] * rng.standard_normal(int(mq.sum()))
            j, q = np.clip(j, 0, 1), np.clip(q, 0, 1)
            seq = sorted(range(n), key=lambda i: (j[i], i))
            f = self.fitness_one(j, q, seq)
            for _ in range(self.ls_steps if n > 1 else 0):
                pos = int(rng.integers(0, n - 1))
                a, b = seq[pos], seq[pos + 1]
                if j[a] == j[b] or (pos > 0 and (j[seq[pos - 1]], seq[pos - 1]) >= (j[a], b)) or (
                        pos + 2 < n and (j[b], a) >= (j[seq[pos + 2]], seq[pos + 2])):
                    continue  # not expressible by swapping the two keys (ties): rejected, as in the kernel
                cand = j.copy()
                cand[a], cand[b] = j[b], j[a]
                cseq = seq[:pos] + [b, a] + seq[pos + 2:]
                cf = self.fitness_one(cand, q, cseq)
                if cf < f:
                    j, f, seq = cand, cf, cseq
            kids_j.append(j)
            kids_p.append(q)
            kids_f.append(f)
        return self._select(jk0, pk0, fit0, np.array(kids_j), np.array(kids_p), np.array(kids_f))
