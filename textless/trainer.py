"""The trainer contract shared by every trainer (encoder, HuBERT pre-training, k-means, unit LM,
prompt, vocoder): one run folder, one log, exact resume.

A run folder ``OUT/`` holds

* ``state.pt``: the training state (weights, optimizer, step, generator states, the config that
  made it), written atomically (:func:`save_state`) and read with ``weights_only=True``
  (:func:`load_state`);
* ``log.jsonl``: one JSON record per step, ``{"step": n, ...}`` (:class:`RunLog`), written before
  the state of that step; a run resumed after a kill first drops the records past its state, so
  the log holds each step once;
* the exported components, ``*.safetensors`` (:func:`textless.components.load_component`).

Rerunning the same command in the same folder resumes: a trainer either draws its batches,
masks and dropout from ``(seed, step, rank)`` or restores its generators from ``state.pt``, so
the resumed run takes the steps an uninterrupted one would. Settings that would change the run
are compared with the saved ones first (:func:`check_resume`). Under ``torchrun`` every trainer
joins the process group through :func:`textless.distributed.init_distributed`. The common flags
(``--steps --save-every --valid-every --device --seed``) are :func:`textless.cli.flags.add_trainer_flags`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path

import torch

from .checkpoint import load_torch_file
from .errors import TextlessError
from .files import atomic_open, atomic_path

log = logging.getLogger(__name__)
STATE_FILE = "state.pt"
LOG_FILE = "log.jsonl"


def state_path(out_dir: str | os.PathLike, legacy: tuple[str, ...] = ()) -> Path | None:
    """``OUT/state.pt``, or the first of the ``legacy`` file names (states of earlier versions)
    that exists; ``None`` when the folder holds no state (a fresh run)."""
    return next((Path(out_dir) / n for n in (STATE_FILE, *legacy) if (Path(out_dir) / n).is_file()), None)


def load_state(out_dir: str | os.PathLike, what: str, legacy: tuple[str, ...] = ()) -> dict | None:
    """The state of :func:`state_path`, read safely (``what`` names it in errors); ``None``
    for a fresh run. Logs (INFO) that the run resumes, and from where."""
    path = state_path(out_dir, legacy)
    if path is None:
        return None
    state = load_torch_file(path, what)
    at = ", ".join(f"{k} {state[k]}" for k in ("step", "files_done") if k in state)
    log.info("resuming the run in %s (%s)", out_dir, at)
    return state


def save_state(out_dir: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` (tensors, numbers, strings, lists and dicts of them) to ``OUT/state.pt``
    atomically: a kill leaves the previous state or the new one, never a torn file."""
    path = Path(out_dir) / STATE_FILE
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def config_json(config) -> str:
    """The dataclass ``config`` as the JSON string saved in ``state.pt`` (tuples become lists)."""
    return json.dumps(dataclasses.asdict(config))


def check_resume(saved: dict | str, config, out_dir, *, free=(), renamed: dict | None = None) -> None:
    """Refuse to resume when a setting of the dataclass ``config`` differs from ``saved`` (the
    :func:`config_json` or ``asdict`` stored in the state), apart from the ``free`` ones (paths,
    device, checkpoint and validation intervals...). ``renamed`` maps the field names of states
    written by earlier versions to today's."""
    saved = json.loads(saved) if isinstance(saved, str) else json.loads(json.dumps(saved))
    saved = {(renamed or {}).get(k, k): v for k, v in saved.items()}
    now = json.loads(config_json(config))
    diff = sorted(k for k in now if k not in free and saved.get(k) != now[k])
    if diff:
        raise TextlessError(f"{out_dir} holds a run with other settings ({', '.join(diff)}): use a new "
                            "--out or the same settings to resume")


def check_world(state: dict, world: int) -> None:
    """A run resumes on as many processes as it was saved from (batches are split by rank)."""
    if int(state.get("world_size", 1)) != world:
        raise TextlessError(f"resume with {state['world_size']} processes, not {world}")


def get_rng(device) -> list[torch.Tensor]:
    """The generator states dropout draws from: the CPU one, and the CUDA one of ``device`` when
    it is a GPU (saved in ``state.pt`` by trainers that do not reseed every step)."""
    states = [torch.get_rng_state()]
    if torch.device(device).type == "cuda":
        states.append(torch.cuda.get_rng_state(device))
    return states


def set_rng(states, device) -> None:
    """Restore what :func:`get_rng` returned (a lone tensor: the CPU state of earlier versions)."""
    states = [states] if torch.is_tensor(states) else states
    torch.set_rng_state(states[0])
    if len(states) > 1 and torch.device(device).type == "cuda":
        torch.cuda.set_rng_state(states[1], device)


# ----------------------------------------------------------------------------- log.jsonl
def read_log(out_dir) -> list[dict]:
    """The records of ``OUT/log.jsonl`` (a line cut by a kill is ignored)."""
    records = []
    path = Path(out_dir) / LOG_FILE
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return records


def truncate_log(path: Path, step: int, key: str = "step") -> None:
    """Drop the lines of ``path`` whose ``key`` is past ``step`` (0: every record that has the
    key) and any line cut by a kill; records without ``key`` are kept."""
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by the kill
        if not isinstance(record, dict) or record.get(key, step) <= step:
            keep.append(line)
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write("".join(k + "\n" for k in keep))


class RunLog:
    """``OUT/log.jsonl`` opened for appending after dropping the records past ``step`` (the
    step a run starts or resumes from). Writes nothing when ``enabled`` is false (ranks > 0)."""

    def __init__(self, out_dir, step: int, enabled: bool = True, key: str = "step"):
        self._f = None
        if enabled:
            path = Path(out_dir) / LOG_FILE
            truncate_log(path, step, key)
            self._f = open(path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        """Append one record and flush it (a kill loses at most the line being written)."""
        if self._f is not None:
            self._f.write(json.dumps(record) + "\n")
            self._f.flush()

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None

    def __enter__(self) -> "RunLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
