"""Pipeline = encoder + quantizer (+ unit LM) (+ vocoder), checked to agree at construction.

The component protocols below are the seams between stages. Every encoder, quantizer, unit LM
and vocoder of textless implements one of them; the pipeline only talks through them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np
import torch

from .audio import load_audio
from .bf16 import use_bf16
from .errors import IncompatibleComponentsError, TextlessError
from .files import atomic_open
from .units import Units, dedup


@runtime_checkable
class Encoder(Protocol):
    """Dense features from audio.

    ``sample_rate`` (Hz) of the input, ``frame_rate`` (Hz) of the output,
    ``receptive_field`` (samples): the shortest input that yields one frame.
    """

    sample_rate: int
    frame_rate: float
    receptive_field: int

    def features(
        self, wav: torch.Tensor, lengths: torch.Tensor | None = None, layer: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``wav: [B, T] float32`` (+ valid ``lengths: [B]`` samples) -> ``([B, F, D], [B] frames)``.

        ``layer`` counts from 1 (fairseq's ``output_layer``); encoders without layers ignore it.
        """
        ...


@runtime_checkable
class Quantizer(Protocol):
    """Nearest-centroid assignment: ``vocab_size`` centroids of dimension ``dim``."""

    vocab_size: int
    dim: int

    def assign(self, feats: torch.Tensor) -> torch.Tensor:
        """``feats: [..., D] float`` -> ``[...] int64`` unit ids."""
        ...


@runtime_checkable
class Vocoder(Protocol):
    """Units to waveform: ``hop_length`` samples per unit frame at ``sample_rate`` Hz."""

    sample_rate: int
    hop_length: int
    vocab_size: int

    def synthesize(self, units: Units, speaker: int | None = None) -> torch.Tensor:
        """``units`` (expanded by their durations, or by a duration predictor) -> ``wav: [T]``."""
        ...


@runtime_checkable
class UnitLanguageModel(Protocol):
    """A unit LM over unit ids ``0 .. vocab_size - 1`` (specials are its own business)."""

    vocab_size: int


@dataclass
class Continuation:
    """A spoken prompt and its sampled continuations.

    ``prompt``: deduplicated prompt units (with durations); ``continuations``: one
    :class:`Units` per sample (deduplicated, no durations). With a vocoder, ``prompt_wav: [T]``
    is the resynthesized prompt and ``continuation_wavs[i]: [T_i]`` the vocoded continuations,
    at ``sample_rate`` Hz.
    """

    prompt: Units
    continuations: list[Units]
    sample_rate: int | None = None
    prompt_wav: torch.Tensor | None = None
    continuation_wavs: list[torch.Tensor] | None = None


def encoder_autocast(device, bf16: bool | str):
    """Context in which an encoder runs its matrix products in bfloat16 (CPU or CUDA autocast; the
    HuBERT conv front-end follows it too) when :func:`textless.bf16.use_bf16` says so: ``True``
    (auto) on CUDA and on CPUs with avx512_bf16/AMX, ``"force"`` anywhere. There it measured ~1.5x
    faster than fp32 with 99.97 % frame-label agreement (BENCHMARKS.md) and features come out in
    bfloat16; an AVX2-only CPU emulates bf16 ~40x slower, so auto runs fp32 there (one warning)."""
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16,
                          enabled=use_bf16(device, bf16))


def _check(cond: bool, message: str):
    if not cond:
        raise IncompatibleComponentsError(message)


@dataclass
class Pipeline:
    """Speech -> units (-> continued units) (-> speech).

    ``layer`` is passed to the encoder; ``name`` is written into every :class:`Units` it makes;
    ``bf16`` runs the encoder's matrix products in bfloat16 (autocast; see :func:`encoder_autocast`).
    """

    encoder: Encoder
    quantizer: Quantizer
    ulm: UnitLanguageModel | None = None
    vocoder: Vocoder | None = None
    layer: int | None = None
    name: str = "pipeline"
    device: str | torch.device = "cpu"
    bf16: bool = False

    def __post_init__(self):
        vocab = self.quantizer.vocab_size
        if self.ulm is not None:
            _check(
                self.ulm.vocab_size == vocab,
                f"{self.name}: unit LM vocabulary {self.ulm.vocab_size} != quantizer's {vocab}",
            )
        if self.vocoder is not None:
            _check(
                self.vocoder.vocab_size == vocab,
                f"{self.name}: vocoder vocabulary {self.vocoder.vocab_size} != quantizer's {vocab}",
            )
            voc_rate = self.vocoder.sample_rate / self.vocoder.hop_length
            _check(
                abs(voc_rate - self.encoder.frame_rate) < 1e-6,
                f"{self.name}: vocoder frame rate {voc_rate:g} Hz != encoder's "
                f"{self.encoder.frame_rate:g} Hz",
            )

    @property
    def frame_rate(self) -> float:
        return float(self.encoder.frame_rate)

    @property
    def sample_rate(self) -> int:
        return int(self.encoder.sample_rate)

    # ---------------------------------------------------------------------------- encode
    @torch.inference_mode()
    def encode_batch(
        self, wavs: Sequence[np.ndarray | torch.Tensor], *, deduplicate: bool = True,
        ids: Sequence[str | None] | None = None,
    ) -> list[Units]:
        """Encode waveforms ``[T_i]`` at ``self.sample_rate`` as one padded batch."""
        tensors = [torch.as_tensor(np.asarray(w), dtype=torch.float32).reshape(-1) for w in wavs]
        lengths = torch.tensor([t.numel() for t in tensors])
        batch = torch.nn.utils.rnn.pad_sequence(tensors, batch_first=True).to(self.device)
        with encoder_autocast(self.device, self.bf16):
            feats, frames = self.encoder.features(batch, lengths.to(self.device), self.layer)
        labels = self.quantizer.assign(feats.float()).cpu()
        out = []
        for i, n in enumerate(frames.tolist()):
            u = labels[i, :n]
            d = None
            if deduplicate:
                u, d = dedup(u)
            out.append(Units(
                u, d, frame_rate=self.frame_rate, vocab_size=self.quantizer.vocab_size,
                model=self.name, id=None if ids is None else ids[i],
            ))
        return out

    def encode(self, wav, *, deduplicate: bool = True, id: str | None = None) -> Units:
        """Encode one waveform ``[T]`` at ``self.sample_rate``."""
        return self.encode_batch([wav], deduplicate=deduplicate, ids=[id])[0]

    def load(self, path, max_duration_s: float | None = None) -> np.ndarray:
        """Read an audio file at the encoder's rate, refusing files shorter than one frame."""
        kwargs = {} if max_duration_s is None else {"max_duration_s": max_duration_s}
        wav, _ = load_audio(
            path, self.sample_rate, min_samples=self.encoder.receptive_field, **kwargs
        )
        return wav

    def encode_file(self, path, *, deduplicate: bool = True) -> Units:
        return self.encode(self.load(path), deduplicate=deduplicate, id=Path(path).stem)

    # ---------------------------------------------------------------------------- resynth
    @torch.inference_mode()
    def resynthesize(self, units: Units, speaker: int | None = None) -> torch.Tensor:
        """``units`` -> ``wav: [T]`` at ``self.vocoder.sample_rate``."""
        if self.vocoder is None:
            raise TextlessError(f"{self.name} has no vocoder: choose a bundle with one")
        return self.vocoder.synthesize(units, speaker=speaker)


    # ---------------------------------------------------------------------------- continue
    @torch.inference_mode()
    def continue_speech(
        self, wav, *, duration_s: float = 5.0, num_samples: int = 1, temperature: float = 0.7,
        top_k: int = 0, top_p: float = 1.0, seed: int | None = None, speaker: int | None = None,
        stop_at_eos: bool = True,
    ) -> Continuation:
        """Encode ``wav: [T]`` (at ``self.sample_rate``), sample continuations with the unit LM,
        and vocode prompt and continuations when the pipeline has a vocoder.

        ``stop_at_eos=False`` always samples the full ``duration_s`` (GSLM stops at eos)."""
        if self.ulm is None:
            raise TextlessError(f"{self.name} has no unit language model: choose a bundle with one")
        from .ulm.sample import continue_units

        prompt = self.encode(wav, deduplicate=True, id="prompt")
        conts = continue_units(
            self.ulm, prompt, num_samples=num_samples, duration_s=duration_s,
            temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, stop_at_eos=stop_at_eos,
        )
        result = Continuation(prompt, conts)
        if self.vocoder is not None:
            result.sample_rate = self.vocoder.sample_rate
            result.prompt_wav = self.resynthesize(prompt, speaker)
            result.continuation_wavs = [self.resynthesize(c, speaker) for c in conts]
        return result


PIPELINE_FILE = "pipeline.json"


def save_pipeline_dir(directory, *, name: str, layer: int | None, files: dict[str, str],
                      **info) -> Path:
    """Write ``directory/pipeline.json`` (atomically) naming component files by role (paths
    relative to it), plus descriptive ``info`` keys (``description``, ``license``, ...).

    ``files``: ``{"encoder": "encoder.safetensors", "quantizer": ..., "ulm": ..., "vocoder": ...}``
    (ulm and vocoder optional). Such a folder is what ``--model DIR`` accepts.
    """
    directory = Path(directory)
    spec = {"format_version": 1, "name": name, "layer": layer, "components": files, **info}
    with atomic_open(directory / PIPELINE_FILE, "w") as f:
        json.dump(spec, f, indent=2)
    return directory


def load_pipeline_dir(directory, device="cpu") -> Pipeline:
    """Load a pipeline folder written by :func:`save_pipeline_dir` (textless component files)."""
    from .components import load_component

    directory = Path(directory)
    spec_path = directory / PIPELINE_FILE
    if not spec_path.is_file():
        raise TextlessError(f"{directory}: not a pipeline folder (no {PIPELINE_FILE})")
    try:
        spec = json.loads(spec_path.read_text())
        components = spec["components"]
    except (json.JSONDecodeError, KeyError) as e:
        raise TextlessError(f"{spec_path}: malformed ({e})") from None
    unknown = set(components) - {"encoder", "quantizer", "ulm", "vocoder"}
    if unknown or not {"encoder", "quantizer"} <= set(components):
        raise TextlessError(f"{spec_path}: components must include encoder and quantizer, "
                            f"and only ulm/vocoder besides (got {sorted(components)})")
    parts = {role: load_component(directory / rel, device) for role, rel in components.items()}
    return Pipeline(**parts, layer=spec.get("layer"), name=spec.get("name", directory.name),
                    device=device)


def load_pipeline(model: str, device="cpu") -> Pipeline:
    """A pipeline from a registered bundle name or a pipeline folder (``--model`` in the CLI)."""
    if Path(model).is_dir():
        return load_pipeline_dir(model, device)
    from .hub import get_bundle

    bundle = get_bundle(model)
    if bundle.role != "pipeline":
        raise TextlessError(f"{model} is a bundle of role {bundle.role}, not a pipeline: see 'textless models list --role pipeline'")
    return load_bundle(bundle, device)


def load_bundle(bundle, device="cpu") -> Pipeline:
    """The :class:`Pipeline` of a ``role="pipeline"`` bundle: a folder shipped in the package
    (file role ``pipeline``: its ``pipeline.json``) or its component bundles, each loaded by its
    own loader. (Pipeline bundles carry no loader: this module composes, the registry names.)"""
    files = bundle.fetch()
    if "pipeline" in files:
        pipe = load_pipeline_dir(files["pipeline"].parent, device)
        pipe.name = bundle.name
        return pipe
    parts = {c.role: c.get_model(device) for c in bundle.components}
    missing = {"encoder", "quantizer"} - set(parts)
    if missing:
        raise TextlessError(f"{bundle.name}: pipeline lacks {sorted(missing)}")
    return Pipeline(
        encoder=parts["encoder"], quantizer=parts["quantizer"], ulm=parts.get("ulm"),
        vocoder=parts.get("vocoder"), layer=bundle.layer, name=bundle.name, device=device,
    )
