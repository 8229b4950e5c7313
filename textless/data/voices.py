"""Voices: a TTS engine voice plus an optional waveform perturbation, spoken into 16 kHz wav.

A voice is written ``ENGINE:NAME[@pitch=SEMITONES][,tempo=FACTOR][,formant=RATIO][,band=HZ]``:

- ``flite:slt`` (flite voices ``awb kal kal16 rms slt``),
- ``festival:kal_diphone`` (festival voices ``kal_diphone ked_diphone cmu_us_slt_arctic_hts``),
- ``espeak:en-us`` (any espeak-ng voice; poor ASR scores, robotic),
- ``flite:awb@pitch=3,tempo=1.1``: the waveform is pitch-shifted by ``pitch`` semitones (sox
  ``pitch``, which moves the formants with the pitch, so the voice sounds like another speaker)
  and time-stretched by ``tempo`` (sox ``tempo``: 1.1 is 10 % faster, pitch unchanged).
- ``flite:rms@formant=1.15``: formants scaled by ``formant`` (Praat's "Change gender" through
  parselmouth: pitch and duration kept; 1.15 sounds shorter-throated, 0.87 longer), applied
  after ``pitch`` and ``tempo``. See :mod:`textless.data.perturb`.
- ``flite:slt@band=4000``: band-limited to ``band`` Hz (resampled to ``2 * band`` Hz and back
  with soxr, whose anti-alias filter removes what lies above), as telephone speech or a voice
  recorded at 8 kHz; applied last.

>>> v = parse_voice("flite:awb@pitch=3,tempo=1.1")
>>> v.engine, v.name, v.pitch, v.tempo, v.speaker
('flite', 'awb', 3.0, 1.1, 'flite-awb-p+3-t110')
>>> parse_voice(v.spec) == v
True
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import load_audio, write_audio
from ..errors import TextlessError

ENGINES = {"flite": "flite", "festival": "text2wave", "espeak": "espeak-ng"}
FLITE_VOICES = ("awb", "kal", "kal16", "rms", "slt")
FESTIVAL_VOICES = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")

#: The default training speakers: 4 flite voices, each also pitch-shifted (8 speakers).
#: Every one of them gives pocketsphinx a WER under 0.2 (see docs/data.md for the numbers).
TRAIN_VOICES = (
    "flite:slt", "flite:slt@pitch=-3",
    "flite:awb", "flite:awb@pitch=3",
    "flite:rms", "flite:rms@pitch=3,tempo=0.9",
    "flite:kal16", "flite:kal16@pitch=3,tempo=1.1",
)
#: Held-out speakers that no training corpus uses: festival voices (one female, two male),
#: flite's 8 kHz kal, voice/perturbation pairs never trained on, and two perturbations outside
#: the training ranges of :data:`PARALLEL_VOICES` (pitch beyond +-4 semitones, formants beyond
#: 0.85-1.2).
HELDOUT_VOICES = (
    "festival:cmu_us_slt_arctic_hts", "festival:ked_diphone", "festival:kal_diphone",
    "flite:kal", "flite:awb@pitch=-2", "flite:rms@pitch=-2,tempo=1.1",
    "flite:awb@pitch=-6", "flite:kal16@formant=1.3",
)

#: The canonical voice of cross-voice training: its units are the targets every other voice
#: is aligned to, and the vocoder speaks in it.
CANONICAL_VOICE = "flite:rms"

#: Voices that speak the canonical voice's sentences in the parallel corpus of the speaker-
#: invariant encoder (31 speakers + the canonical one): the flite voices, pseudo-voices made by
#: pitch (sox, -4..+4 semitones), formant (Praat, 0.85..1.2) and tempo (0.9..1.1) perturbation,
#: and espeak-ng voices. None of them is in :data:`HELDOUT_VOICES`.
PARALLEL_VOICES = (
    "flite:slt", "flite:awb", "flite:kal16",
    "flite:rms@pitch=3", "flite:rms@pitch=-3,tempo=0.9", "flite:rms@formant=1.15",
    "flite:rms@formant=0.87", "flite:rms@pitch=1.5,formant=1.1", "flite:rms@tempo=1.1",
    "flite:slt@pitch=-3", "flite:slt@pitch=2", "flite:slt@formant=0.87", "flite:slt@formant=1.12",
    "flite:slt@pitch=-4,formant=0.9", "flite:slt@tempo=0.9",
    "flite:awb@pitch=3", "flite:awb@pitch=-3.5,tempo=1.1", "flite:awb@formant=1.15",
    "flite:awb@formant=0.88", "flite:awb@pitch=4,formant=1.15",
    "flite:kal16@pitch=3,tempo=1.1", "flite:kal16@pitch=-3", "flite:kal16@formant=1.15",
    "flite:kal16@formant=0.87", "flite:kal16@pitch=2,formant=0.9",
    "espeak:en-us", "espeak:en-gb-x-rp", "espeak:en-us+f2", "espeak:en-us+f4", "espeak:en-029",
    "espeak:en-gb-scotland+m3",
)


class SynthesisError(TextlessError):
    """A TTS engine or sox is missing or failed on an input."""


@dataclass(frozen=True)
class Voice:
    """One speaker: ``engine`` voice ``name``, shifted by ``pitch`` semitones, sped by ``tempo``."""

    engine: str
    name: str
    pitch: float = 0.0
    tempo: float = 1.0
    formant: float = 1.0
    band: int = 0  # Hz; 0: the full band

    @property
    def spec(self) -> str:
        """The string :func:`parse_voice` reads back into this voice."""
        opts = []
        if self.pitch:
            opts.append(f"pitch={self.pitch:g}")
        if self.tempo != 1.0:
            opts.append(f"tempo={self.tempo:g}")
        if self.formant != 1.0:
            opts.append(f"formant={self.formant:g}")
        if self.band:
            opts.append(f"band={self.band}")
        return f"{self.engine}:{self.name}" + ("@" + ",".join(opts) if opts else "")

    @property
    def speaker(self) -> str:
        """A file-name-safe speaker id, e.g. ``flite-awb-p+3-t110``."""
        s = f"{self.engine}-{self.name}"
        if self.pitch:
            s += f"-p{self.pitch:+g}"
        if self.tempo != 1.0:
            s += f"-t{round(self.tempo * 100)}"
        if self.formant != 1.0:
            s += f"-f{round(self.formant * 100)}"
        if self.band:
            s += f"-b{self.band}"
        return s

    @property
    def speaks_phones(self) -> bool:
        """Whether :func:`synthesize` accepts ``phones=`` (flite's ``-p``)."""
        return self.engine == "flite"


def parse_voice(spec: str) -> Voice:
    """Parse ``ENGINE:NAME[@pitch=S][,tempo=F][,formant=R][,band=HZ]`` (see the module doc);
    raises TextlessError."""
    head, _, opts = spec.strip().partition("@")
    engine, sep, name = head.partition(":")
    if not sep or engine not in ENGINES or not name:
        raise TextlessError(
            f"voice {spec!r}: expected ENGINE:NAME[@pitch=SEMITONES,tempo=FACTOR,formant=RATIO,band=HZ] "
            f"with ENGINE one of {', '.join(ENGINES)}"
        )
    if engine == "flite" and name not in FLITE_VOICES:
        raise TextlessError(f"voice {spec!r}: flite voices are {', '.join(FLITE_VOICES)}")
    if engine == "festival" and name not in FESTIVAL_VOICES:
        raise TextlessError(f"voice {spec!r}: festival voices are {', '.join(FESTIVAL_VOICES)}")
    values = {"pitch": 0.0, "tempo": 1.0, "formant": 1.0, "band": 0.0}
    for opt in filter(None, opts.split(",")):
        key, eq, value = opt.partition("=")
        if key not in values or not eq:
            raise TextlessError(f"voice {spec!r}: unknown option {opt!r} (pitch=, tempo=, formant=, band=)")
        try:
            values[key] = float(value)
        except ValueError:
            raise TextlessError(f"voice {spec!r}: {key} must be a number, got {value!r}") from None
    if (not -12 <= values["pitch"] <= 12 or not 0.5 <= values["tempo"] <= 2.0
            or not 0.5 <= values["formant"] <= 2.0):
        raise TextlessError(f"voice {spec!r}: pitch must be in [-12, 12], tempo and formant in [0.5, 2]")
    band = values["band"]
    if band and (band != int(band) or not 1000 <= band < 8000):
        raise TextlessError(f"voice {spec!r}: band must be a whole number of Hz in [1000, 8000)")
    return Voice(engine, name, values["pitch"], values["tempo"], values["formant"], int(band))


def check_engine(voice: Voice) -> None:
    """Raise :class:`SynthesisError` when the engine (or sox, for a perturbation) is missing."""
    tools = [ENGINES[voice.engine]] + (["sox"] if voice.pitch or voice.tempo != 1.0 else [])
    for tool in tools:
        if shutil.which(tool) is None:
            raise SynthesisError(
                f"voice {voice.spec}: '{tool}' is not installed (scripts/setup.sh installs it)"
            )


def _run(cmd: list[str], voice: Voice, stdin: str | None = None) -> None:
    try:
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        check_engine(voice)
        raise
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise SynthesisError(f"voice {voice.spec}: {cmd[0]} failed: {msg[-1] if msg else proc.returncode}")


def synthesize(
    voice: Voice, path: str | os.PathLike, text: str | None = None, *, phones: str | None = None,
    sample_rate: int = 16000,
) -> int:
    """Speak ``text`` (or, flite only, a phone string such as ``"hh ah0 l ow1"``) into ``path``.

    Writes a mono 16-bit wav at ``sample_rate`` Hz atomically; returns its length in samples.
    """
    if (text is None) == (phones is None):
        raise ValueError("give exactly one of text= and phones=")
    if phones is not None and not voice.speaks_phones:
        raise SynthesisError(f"voice {voice.spec}: only flite voices speak phone strings")
    with tempfile.TemporaryDirectory(prefix="textless-tts-") as tmp:
        raw = Path(tmp) / "raw.wav"
        if voice.engine == "flite":
            flag = ["-p", phones] if phones is not None else ["-t", text]
            _run(["flite", "-voice", voice.name, *flag, "-o", str(raw)], voice)
        elif voice.engine == "festival":
            _run(["text2wave", "-eval", f"(voice_{voice.name})", "-o", str(raw)], voice, stdin=text)
        else:
            _run(["espeak-ng", "-v", voice.name, "-w", str(raw), "--", text], voice)
        if voice.pitch or voice.tempo != 1.0:
            shifted = Path(tmp) / "shifted.wav"
            effects = []
            if voice.pitch:
                effects += ["pitch", f"{voice.pitch * 100:g}"]
            if voice.tempo != 1.0:
                effects += ["tempo", "-s", f"{voice.tempo:g}"]
            _run(["sox", "-D", "-G", str(raw), str(shifted), *effects], voice)
            raw = shifted
        wav, _ = load_audio(raw, sample_rate)
        if voice.formant != 1.0:
            from .perturb import change_gender

            wav = change_gender(wav, sample_rate, formant_ratio=voice.formant)
        if voice.band and 2 * voice.band < sample_rate:
            import soxr

            low = soxr.resample(wav, sample_rate, 2 * voice.band, quality="VHQ")
            back = soxr.resample(low, 2 * voice.band, sample_rate, quality="VHQ")[: len(wav)]
            wav = np.pad(back, (0, len(wav) - len(back)))  # the same length (+-1 sample of rounding)
        write_audio(path, wav, sample_rate)
        return int(wav.shape[0])
