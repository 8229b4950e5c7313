"""Pipeline = encoder + quantizer (+ unit LM) (+ vocoder), checked to agree at construction.

The component protocols (:mod:`textless.components`, re-exported here) are the seams between
stages; the pipeline only talks through them, and owns the behaviour that needs several stages:
audio -> features (:meth:`Pipeline.features`), F0 for a vocoder (:meth:`Pipeline.resynthesize`),
continuation (:meth:`Pipeline.continue_speech`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .audio import load_audio
from .protocols import Encoder, Quantizer, UnitLanguageModel, Vocoder  # noqa: F401 (re-exported)
from .errors import IncompatibleComponentsError, TextlessError
from .files import atomic_open
from .units import Units, dedup


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


def _check(cond: bool, message: str):
    if not cond:
        raise IncompatibleComponentsError(message)


def _trained_layer(quantizer) -> int | None:
    """The encoder layer a quantizer says it was trained on (``cfg.layer``), or None."""
    return getattr(getattr(quantizer, "cfg", None), "layer", None)


@dataclass
class Pipeline:
    """Speech -> units (-> continued units) (-> speech).

    ``layer`` is passed to the encoder; ``name`` is written into every :class:`Units` it makes;
    ``bf16`` runs the encoder's matrix products in bfloat16 (autocast; see :func:`encoder_autocast`).
    Construction checks that the parts agree (see :meth:`check`); :meth:`from_parts` and
    :meth:`from_files` also fill in ``layer`` from the quantizer.
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
        self.check()

    def check(self) -> None:
        """Every compatibility check, in one place; raises :class:`IncompatibleComponentsError`.

        Encoder dimension = quantizer dimension; ``layer`` within the encoder's layers and equal
        to the quantizer's training layer; unit LM and vocoder vocabularies = quantizer's;
        vocoder frame rate (its ``frame_rate`` attribute where it declares one, else
        ``sample_rate / hop_length``) = encoder frame rate.
        """
        enc_dim = getattr(self.encoder, "dim", None)
        if enc_dim is not None:
            _check(self.quantizer.dim == enc_dim,
                   f"{self.name}: quantizer dimension {self.quantizer.dim} != encoder dimension {enc_dim}")
        n_layers = getattr(self.encoder, "num_layers", None)
        if self.layer is not None and n_layers:
            _check(0 <= self.layer <= n_layers,
                   f"{self.name}: layer {self.layer} is outside the encoder's layers 0..{n_layers}")
        trained = _trained_layer(self.quantizer)
        _check(trained is None or self.layer is None or trained == self.layer,
               f"{self.name}: the quantizer was trained on layer {trained}, not layer {self.layer}")
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
            # a vocoder whose hop is rounded (GSLM Tacotron2: 22050 / 100) declares its rate
            voc_rate = getattr(self.vocoder, "frame_rate", None) or (
                self.vocoder.sample_rate / self.vocoder.hop_length)
            _check(
                abs(voc_rate - self.encoder.frame_rate) < 1e-6,
                f"{self.name}: vocoder frame rate {voc_rate:g} Hz != encoder's "
                f"{self.encoder.frame_rate:g} Hz",
            )

    @classmethod
    def from_parts(cls, encoder: Encoder, quantizer: Quantizer, *, ulm=None, vocoder=None,
                   layer: int | None = None, name: str | None = None, device="cpu",
                   bf16: bool = False) -> "Pipeline":
        """A pipeline from loaded parts. ``layer`` defaults to the one the quantizer was trained
        on; an encoder with layers needs one of the two. ``name`` defaults to
        ``<encoder class>[-l<layer>]-km<K>``."""
        layer = _trained_layer(quantizer) if layer is None else layer
        if getattr(encoder, "num_layers", 0) and layer is None:
            raise IncompatibleComponentsError(
                "the encoder has layers and the quantizer names none: give the layer")
        if name is None:
            name = f"{type(encoder).__name__}{'' if layer is None else f'-l{layer}'}-km{quantizer.vocab_size}"
        return cls(encoder, quantizer, ulm=ulm, vocoder=vocoder, layer=layer, name=name,
                   device=device, bf16=bf16)

    @classmethod
    def from_files(cls, quantizer, *, encoder=None, spectral: str | None = None, ulm=None,
                   vocoder=None, layer: int | None = None, name: str | None = None, device="cpu",
                   bf16: bool = False) -> "Pipeline":
        """Load the parts and assemble them with :meth:`from_parts`.

        ``encoder``: a fairseq HuBERT/wav2vec2 ``.pt``, a Hugging Face folder or a textless
        ``.safetensors``; or ``spectral``: ``"mfcc"`` / ``"logmel"`` features instead.
        ``quantizer``: any textless quantizer ``.safetensors`` (k-means, or the linear head of
        ``textless train encoder``) or an official ``km.bin``; ``ulm`` / ``vocoder``:
        optional files in the formats their loaders read. ``name`` defaults to
        ``<encoder file stem or spectral>[-l<layer>]-km<K>``.
        """
        from .encoders.fairseq_import import load_encoder
        from .quantizers.kmeans import load_kmeans_bin

        if (encoder is None) == (spectral is None):
            raise TextlessError("give one of an encoder checkpoint or spectral features")
        if spectral is not None:
            from .encoders.spectral import SpectralEncoder, logmel_config, mfcc_config

            configs = {"mfcc": mfcc_config, "logmel": logmel_config}
            if spectral not in configs:
                raise TextlessError(f"spectral features are mfcc or logmel, not {spectral!r}")
            enc = SpectralEncoder(configs[spectral]()).to(device)
        else:
            if not Path(encoder).exists():
                raise TextlessError(f"{encoder}: no such checkpoint")
            enc = load_encoder(encoder, device)
            if not hasattr(enc, "features"):
                raise TextlessError(f"{encoder}: not an encoder checkpoint")
        if not Path(quantizer).is_file():
            raise TextlessError(f"{quantizer}: no such k-means file")
        if Path(quantizer).suffix == ".safetensors":  # ours: k-means or a trained linear head
            from .components import load_component

            km = load_component(quantizer, device, role="quantizer")
        else:
            km = load_kmeans_bin(quantizer, device=device)
        parts = {}
        if ulm is not None:
            from .ulm.checkpoint import load_ulm

            parts["ulm"] = load_ulm(ulm, device)
        if vocoder is not None:
            from .vocoders.checkpoint import load_vocoder

            parts["vocoder"] = load_vocoder(vocoder, device=device)
        if name is None:
            trained = _trained_layer(km) if layer is None else layer
            name = f"{Path(encoder).stem if encoder is not None else spectral}" \
                   f"{'' if trained is None else f'-l{trained}'}-km{km.vocab_size}"
        return cls.from_parts(enc, km, **parts, layer=layer, name=name, device=device, bf16=bf16)

    @property
    def frame_rate(self) -> float:
        return float(self.encoder.frame_rate)

    @property
    def sample_rate(self) -> int:
        return int(self.encoder.sample_rate)

    # ---------------------------------------------------------------------------- encode
    def features(self, wavs, lengths: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Encoder features at ``self.layer`` of each waveform, trimmed to its frames:
        ``[F_i, D] float32`` on ``self.device`` (frames at ``self.frame_rate`` Hz).

        ``wavs``: ``[T_i]`` waveforms at ``self.sample_rate`` Hz (one padded batch), or a padded
        ``[B, T]`` tensor with valid ``lengths: [B]`` samples. Runs under :func:`encoder_autocast`
        when ``bf16``. See :func:`textless.encoders.batch.features_of`.
        """
        from .encoders.batch import encoder_autocast, features_of

        with encoder_autocast(self.device, self.bf16):
            return features_of(self.encoder, wavs, self.layer, lengths=lengths, device=self.device)

    @torch.inference_mode()
    def encode_batch(
        self, wavs: Sequence[np.ndarray | torch.Tensor], *, deduplicate: bool = True,
        ids: Sequence[str | None] | None = None,
    ) -> list[Units]:
        """Encode waveforms ``[T_i]`` at ``self.sample_rate`` as one padded batch."""
        feats = self.features(wavs)
        labels = self.quantizer.assign(torch.cat(feats)).cpu().split([len(f) for f in feats])
        out = []
        for i, u in enumerate(labels):
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
    def resynthesize(self, units: Units, *, wav=None, speaker: int | str | None = None,
                     style: int | str | None = None) -> torch.Tensor:
        """``units`` -> ``wav: [T]`` at ``self.vocoder.sample_rate``.

        ``wav: [T]`` (at ``self.sample_rate``): the audio the units came from; a vocoder that
        ``needs_f0`` gets its F0 (:func:`textless.prosody.utterance_f0` over ``units.num_frames``
        frames: the units carry their durations, or are one per frame). Without ``wav`` such a vocoder gets a flat
        F0 of 0, its speaker's mean log-F0 on every frame: monotone speech (how continuations,
        which have no audio, are vocoded). ``speaker``/``style``: name or index, for vocoders
        that have them.
        """
        if self.vocoder is None:
            raise TextlessError(f"{self.name} has no vocoder: choose a bundle with one")
        kwargs = {} if style is None else {"style": style}
        if getattr(self.vocoder, "needs_f0", False):
            kwargs["f0"] = self._f0(units, wav)
        return self.vocoder.synthesize(units, speaker=speaker, **kwargs)

    def _f0(self, units: Units, wav) -> torch.Tensor:
        if wav is None:
            return torch.zeros(units.num_frames)
        from .prosody import utterance_f0

        wav = np.asarray(torch.as_tensor(wav, dtype=torch.float32).cpu()).reshape(-1)
        return torch.from_numpy(utterance_f0(wav, self.sample_rate, units.num_frames, self.frame_rate))

    # ---------------------------------------------------------------------------- continue
    @torch.inference_mode()
    def continue_speech(
        self, prompt, *, duration_s: float | None = 5.0, max_new_tokens: int | None = None,
        num_samples: int = 1, temperature: float = 0.7, top_k: int = 0, top_p: float = 1.0,
        seed: int | None = None, speaker: int | str | None = None, style: int | str | None = None,
        stop_at_eos: bool = True, id: str | None = None, vocode_prompt: bool = True,
    ) -> Continuation:
        """Encode ``prompt`` (``wav: [T]`` at ``self.sample_rate``, or :class:`Units` already
        encoded), sample continuations with the unit LM, and vocode prompt and continuations
        when the pipeline has a vocoder (the prompt with its own F0 when it is audio and the
        vocoder ``needs_f0``; continuations with a flat F0, see :meth:`resynthesize`).

        Length: ``max_new_tokens`` units when given, else ``duration_s`` seconds.
        ``stop_at_eos=False`` always samples the full length (GSLM stops at eos). ``id`` names
        the prompt (default: its own id, else ``"prompt"``); continuation ``n`` is ``<id>-<n>``.
        ``vocode_prompt=False`` leaves ``prompt_wav`` None (only the continuations are vocoded)."""
        if self.ulm is None:
            raise TextlessError(f"{self.name} has no unit language model: choose a bundle with one")
        from .ulm.sample import continue_units

        wav = None
        if isinstance(prompt, Units):
            prompt = replace(prompt, id=id or prompt.id or "prompt")
        else:
            wav, prompt = prompt, self.encode(prompt, deduplicate=True, id=id or "prompt")
        length = ({"max_new_tokens": max_new_tokens} if max_new_tokens is not None
                  else {"duration_s": duration_s})
        conts = continue_units(
            self.ulm, prompt, num_samples=num_samples, temperature=temperature, top_k=top_k,
            top_p=top_p, seed=seed, stop_at_eos=stop_at_eos, **length,
        )
        result = Continuation(prompt, conts)
        if self.vocoder is not None:
            voice = {"speaker": speaker, "style": style}
            result.sample_rate = self.vocoder.sample_rate
            if vocode_prompt:
                result.prompt_wav = self.resynthesize(prompt, wav=wav, **voice)
            result.continuation_wavs = [self.resynthesize(c, **voice) for c in conts]
        return result


PIPELINE_FILE = "pipeline.json"


def save_pipeline_dir(directory, *, name: str, layer: int | None, files: dict[str, str],
                      **info) -> Path:
    """Write ``directory/pipeline.json`` (atomically) naming component files by role (paths
    relative to it), plus descriptive ``info`` keys (``description``, ``license``, ...).

    ``files``: ``{"encoder": "encoder.safetensors", "quantizer": ..., "ulm": ..., "vocoder": ...,
    "tokenizer": "tokenizer.json"}`` (ulm, vocoder, tokenizer optional; a tokenizer needs a ulm
    trained on its tokens). Such a folder is what ``--model DIR`` accepts.
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
    unknown = set(components) - {"encoder", "quantizer", "ulm", "vocoder", "tokenizer"}
    if unknown or not {"encoder", "quantizer"} <= set(components):
        raise TextlessError(f"{spec_path}: components must include encoder and quantizer, "
                            f"and only ulm/vocoder/tokenizer besides (got {sorted(components)})")
    if "tokenizer" in components and "ulm" not in components:
        raise TextlessError(f"{spec_path}: a tokenizer component needs a ulm trained on its tokens")
    parts = {role: load_component(directory / rel, device) for role, rel in components.items()
             if role != "tokenizer"}
    if "tokenizer" in components:  # the LM reads tokens: seen in unit space through its tokenizer
        from .ulm.tokenized import with_tokenizer

        parts["ulm"] = with_tokenizer(parts["ulm"], directory / components["tokenizer"])
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
