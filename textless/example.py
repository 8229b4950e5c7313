"""The main job of ``make run``: resynthesize and continue an example utterance."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import torch

from .audio import load_audio, write_audio
from .errors import TextlessError
from .units import write_units

EXAMPLE_TEXT = "the old man walked along the river and looked at the boats in the morning light"
EXAMPLE_VOICE = "kal"  # a voice the default was not trained on (see docs/data.md)


def speak_example(path: Path, sample_rate: int) -> Path:
    """Speak :data:`EXAMPLE_TEXT` with flite into ``path`` (mono, ``sample_rate`` Hz)."""
    if shutil.which("flite") is None:
        raise TextlessError("flite is not installed: run 'make setup' (or apt-get install flite)")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(
            ["flite", "-voice", EXAMPLE_VOICE, "-t", EXAMPLE_TEXT, "-o", str(raw)],
            check=True, capture_output=True,
        )
        wav, _ = load_audio(raw, sample_rate)
    return write_audio(path, wav, sample_rate)


def run_example(model: str, out_dir: Path, *, seed: int = 0, duration_s: float = 4.0) -> list[str]:
    """Encode, resynthesize and continue the example; returns the lines to print."""
    from .pipeline import load_pipeline

    torch.manual_seed(seed)
    lines = []
    t0 = time.perf_counter()
    pipe = load_pipeline(model)
    lines.append(f"pipeline   {pipe.name}  (loaded in {time.perf_counter() - t0:.2f} s)")
    prompt_path = speak_example(out_dir / "prompt.wav", pipe.sample_rate)
    wav = pipe.load(prompt_path)
    lines.append(f"prompt     {prompt_path}  ({len(wav) / pipe.sample_rate:.2f} s, flite "
                 f"voice {EXAMPLE_VOICE}: \"{EXAMPLE_TEXT}\")")

    t = time.perf_counter()
    units = pipe.encode(wav, id="prompt")
    lines.append(f"encode     {len(units)} deduplicated units from {units.num_frames} frames "
                 f"in {time.perf_counter() - t:.2f} s")
    lines.append(f"units      {' '.join(map(str, units.units.tolist()))}")
    files = [write_units(out_dir / "units.jsonl", [units])]

    if pipe.vocoder is not None:
        t = time.perf_counter()
        resynth = pipe.resynthesize(units, wav=wav)
        files.append(write_audio(out_dir / "resynthesized.wav", resynth, pipe.vocoder.sample_rate))
        lines.append(f"resynth    {len(resynth) / pipe.vocoder.sample_rate:.2f} s of audio in "
                     f"{time.perf_counter() - t:.2f} s")
    else:
        lines.append("resynth    skipped: this pipeline has no vocoder")

    if pipe.ulm is not None:
        t = time.perf_counter()
        result = pipe.continue_speech(wav, duration_s=duration_s, seed=seed, stop_at_eos=False)
        cont = result.continuations[0]
        lines.append(f"continue   {len(cont)} new units in {time.perf_counter() - t:.2f} s")
        lines.append(f"new units  {' '.join(map(str, cont.units.tolist()))}")
        files.append(write_units(out_dir / "continuation.jsonl", result.continuations))
        if result.continuation_wavs is not None:
            both = torch.cat([result.prompt_wav, result.continuation_wavs[0]])
            files.append(write_audio(out_dir / "continued.wav", both, result.sample_rate))
    else:
        lines.append("continue   skipped: this pipeline has no unit language model")
    lines.append(f"total      {time.perf_counter() - t0:.2f} s")
    lines += [f"wrote      {f}" for f in [prompt_path, *files]]
    return lines
