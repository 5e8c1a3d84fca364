"""``--method best``: a portfolio — the in-graph methods first, their best schedule warm-starts CP-SAT."""
