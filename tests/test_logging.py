"""Training runs log their start, resume and end through ``logging`` (the CLI shows them on stderr)."""

import logging

import jax
import numpy as np

from jsched.cli import _log_to_stderr
from jsched.training import RunConfig, run_training


class _Counter:
    """A trainer without JAX: the state counts updates."""

    name, total, chunk, extendable = "toy", 4, 2, ()

    def init(self, key):
        return {"n": np.zeros((), np.int64)}

    def run_chunk(self, state, n):
        return {"n": state["n"] + n}, {"loss": np.ones(n)}

    def export(self, state, path, meta):
        open(path, "wb").close()


def test_training_logs_start_and_end(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="jsched")
    summary = run_training(_Counter(), RunConfig(out=str(tmp_path), progress=False), jax.random.key(0))
    assert summary["updates"] == 4
    messages = [r.getMessage() for r in caplog.records if r.name == "jsched.training"]
    assert messages[0] == f"toy: training 4 updates in {tmp_path}"
    assert messages[-1].startswith("toy: 4 updates done in ")
    run_training(_Counter(), RunConfig(out=str(tmp_path), resume=True, progress=False), jax.random.key(0))
    assert f"toy: resuming {tmp_path} at update 4 of 4" in caplog.messages


def test_cli_shows_jsched_logs_on_stderr_and_restores_logging(capsys):
    log = logging.getLogger("jsched")
    saved = log.handlers[:], log.level
    root_handlers = logging.getLogger().handlers[:]
    logging.getLogger().handlers = []  # as a plain `jsched` process: nothing configured
    try:
        with _log_to_stderr():
            logging.getLogger("jsched.training").info("hello")
        logging.getLogger("jsched.training").info("not shown")
    finally:
        logging.getLogger().handlers = root_handlers
    assert capsys.readouterr().err == "hello\n"
    assert (log.handlers, log.level) == saved
