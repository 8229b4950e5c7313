"""Import GSLM's unit-to-speech files without running their pickles, and the vocoder they make.

Files (docs/gslm_unit2speech.md, docs/zoo_gslm.md):

* ``tts_checkpoint_best.pt``: ``{"hparams": <pickled hparams object>, "model_dict": state_dict}``
  (Tacotron2 with NVIDIA's module names); the hparams class lives in the authors' training code,
  so it is read as an inert record (see :func:`safe_load`);
* ``code_dict``: one unit label per line; token index = line number + 1 (index 0 is the pad ``_``);
* ``waveglow_256channels_standalone.pt``: ``{"hparams": WaveGlow kwargs, "model_dict": state_dict}``
  with weight-normed convs (``weight_g``/``weight_v``), folded here.

:class:`GSLMVocoder` chains them as GSLM's ``synthesize_audio``: unit labels -> tokens (``collapse_code``
deduplicates; labels missing from ``code_dict`` are dropped, and so are the ``<s>``/``</s>`` that
``add_sos``/``add_eos`` add, since the code dict has no entry for them) -> Tacotron2 inference
(it predicts the durations through attention) -> WaveGlow ``sigma=0.666`` -> denoiser.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..checkpoint import load_torch_file
from ..errors import CheckpointError, TextlessError
from ..units import Units
from .tacotron2 import Tacotron2, Tacotron2Config
from .waveglow import Denoiser, WaveGlow, WaveGlowConfig

#: Modules whose names in a pickle mean "call this to run code": refused even as inert stubs.
_REFUSED = ("builtins.", "os.", "posix.", "nt.", "subprocess.", "sys.", "shutil.", "importlib.", "runpy.",
            "pickle.", "socket.", "ctypes.", "functools.", "operator.", "types.", "code.", "pty.", "torch.")


class _Record:
    """Inert stand-in for a pickled object of an unknown class: keeps state and items, runs nothing."""

    def __init__(self, *args, **kwargs):
        self.__dict__["_items"] = {}

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots)
            state = {**(state[0] or {}), **(state[1] or {})}
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self.__dict__["_state"] = state

    def __setitem__(self, key, value):
        self.__dict__.setdefault("_items", {})[key] = value


def _record_class(qualname: str) -> type:
    module, _, name = qualname.rpartition(".")
    cls = type(name, (_Record,), {})
    cls.__module__, cls.__qualname__ = module, name
    return cls


def safe_load(path: str | os.PathLike, what: str) -> dict:
    """``torch.load(weights_only=True)`` where pickled classes of the training code (hparams
    objects) become inert records. Globals of modules that can run code are refused."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file ({what})")
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception as e:
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise CheckpointError(f"{path}: not a torch checkpoint ({type(e).__name__}: {first})") from None
    refused = [g for g in unsafe if g.startswith(_REFUSED)]
    if refused:
        raise CheckpointError(f"{path}: refusing to load, the pickle references {refused} (it could run code)")
    obj = load_torch_file(path, what, safe_globals=[_record_class(g) for g in unsafe])
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a dict checkpoint, got {type(obj).__name__}")
    return obj


def as_dict(obj) -> dict:
    """Attributes of an hparams object (a dict, a record of any class, a namespace) as a dict."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return dict(obj)
    d = {k: v for k, v in vars(obj).items() if k not in ("_items", "_state")}
    d.update(getattr(obj, "_items", {}) or {})
    if isinstance(getattr(obj, "_state", None), dict):
        d.update(obj._state)
    return d


# ----------------------------------------------------------------------------------- Tacotron2
def tacotron_config(hparams: dict) -> Tacotron2Config:
    """:class:`Tacotron2Config` from the checkpoint's hparams (names as in NVIDIA's hparams.py)."""
    import dataclasses

    fields = {f.name for f in dataclasses.fields(Tacotron2Config)}
    kw = {k: hparams[k] for k in fields if hparams.get(k) is not None}
    if "n_symbols" not in kw:
        raise CheckpointError("Tacotron2 hparams have no 'n_symbols'")
    if hparams.get("text_or_code", "code") != "code":
        raise CheckpointError(f"text_or_code={hparams['text_or_code']!r}: not a unit-to-speech model")
    return Tacotron2Config(**kw)


def _check_and_load(model: nn.Module, state: dict, name: str) -> nn.Module:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unknown = sorted(set(state) - set(expected))
    if missing or unknown:
        raise CheckpointError(f"checkpoint does not match the {name} architecture: "
                              + (f"missing keys {missing[:5]} " if missing else "")
                              + (f"unknown keys {unknown[:5]}" if unknown else ""))
    for k, v in state.items():
        if tuple(v.shape) != tuple(expected[k].shape):
            raise CheckpointError(f"{k}: shape {tuple(v.shape)} in checkpoint, {tuple(expected[k].shape)} in model")
    model.load_state_dict(state, strict=True)
    return model


def load_tacotron(path, device="cpu") -> tuple[Tacotron2, dict]:
    """Official ``tts_checkpoint_best.pt`` -> (``eval()`` :class:`Tacotron2`, hparams dict).

    ``lat_encoder.*`` weights (models with ``lat_dim > 0``) are dropped: inference uses a zero latent.
    """
    ckpt = safe_load(path, "a GSLM Tacotron2 checkpoint")
    if "model_dict" not in ckpt or "hparams" not in ckpt:
        raise CheckpointError(f"{path}: not a GSLM Tacotron2 checkpoint (keys {sorted(ckpt)[:6]})")
    hp = as_dict(ckpt["hparams"])
    try:
        cfg = tacotron_config(hp)
        state = {k: v for k, v in ckpt["model_dict"].items()
                 if not (cfg.lat_dim > 0 and k.startswith("lat_encoder."))}
        model = _check_and_load(Tacotron2(cfg), state, "Tacotron2")
    except (CheckpointError, TypeError) as e:
        raise CheckpointError(f"{path}: {e}") from None
    return model.to(device).eval(), hp


def read_code_dict(path) -> dict[str, int]:
    """GSLM ``code_dict``: ``{label: token}`` with tokens 1..n in line order (0 is the pad ``_``)."""
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: unreadable code_dict ({e})") from None
    codes = ["_"] + [ln.rstrip() for ln in lines]
    return {c: i for i, c in enumerate(codes)}


def units_to_tokens(labels: list[str], code_dict: dict, collapse_code: bool) -> list[int]:
    """GSLM ``code_to_sequence``: map labels through ``code_dict``, dropping unknown labels; with
    ``collapse_code`` a label equal to the previous *kept* label is dropped too.

    >>> units_to_tokens(["<s>", "3", "3", "9", "3", "</s>"], {"_": 0, "3": 1, "9": 2}, True)
    [1, 2, 1]
    """
    if not collapse_code:
        return [code_dict[c] for c in labels if c in code_dict]
    out, prev = [], None
    for c in labels:
        if c in code_dict and c != prev:
            out.append(code_dict[c])
            prev = c
    return out


# ------------------------------------------------------------------------------------ WaveGlow
def fold_weight_norm(state: dict) -> dict:
    """``{name}.weight_g`` / ``{name}.weight_v`` (``torch.nn.utils.weight_norm``, dim 0) -> ``weight``."""
    out = {}
    for k, v in state.items():
        if k.endswith(".weight_v"):
            continue
        if k.endswith(".weight_g"):
            base = k[: -len("_g")]
            vv = state.get(base + "_v")
            if vv is None:
                raise CheckpointError(f"{k} without {base}_v")
            norm = vv.norm(dim=tuple(range(1, vv.dim())), keepdim=True)
            out[base] = v * vv / norm
        else:
            out[k] = v
    orphans = [k for k in state if k.endswith(".weight_v") and k[:-2] + "_g" not in state]
    if orphans:
        raise CheckpointError(f"{orphans[0]} without its weight_g")
    return out


def waveglow_config(hparams: dict) -> WaveGlowConfig:
    wn = as_dict(hparams.get("WN_config"))
    try:
        return WaveGlowConfig(n_mel_channels=int(hparams["n_mel_channels"]), n_flows=int(hparams["n_flows"]),
                              n_group=int(hparams["n_group"]), n_early_every=int(hparams["n_early_every"]),
                              n_early_size=int(hparams["n_early_size"]), n_layers=int(wn["n_layers"]),
                              n_channels=int(wn["n_channels"]), kernel_size=int(wn["kernel_size"]))
    except KeyError as e:
        raise CheckpointError(f"WaveGlow hparams lack {e}") from None


def load_waveglow(path, device="cpu") -> WaveGlow:
    """Standalone WaveGlow ``{"hparams", "model_dict"}`` -> ``eval()`` :class:`WaveGlow`."""
    ckpt = safe_load(path, "a standalone WaveGlow checkpoint")
    if "model_dict" not in ckpt or "hparams" not in ckpt:
        raise CheckpointError(f"{path}: not a standalone WaveGlow checkpoint (keys {sorted(ckpt)[:6]}); "
                              "the pickled-module file waveglow_256channels_new.pt is not supported")
    try:
        model = _check_and_load(WaveGlow(waveglow_config(as_dict(ckpt["hparams"]))),
                                fold_weight_norm(ckpt["model_dict"]), "WaveGlow")
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from None
    return model.to(device).eval()


# ------------------------------------------------------------------------------------- vocoder
class GSLMVocoder(nn.Module):
    """Tacotron2 + WaveGlow + denoiser implementing :class:`textless.pipeline.Vocoder`.

    ``sample_rate``: Tacotron's ``sampling_rate`` (22050 for GSLM's LJSpeech models);
    ``hop_length``: nominal samples per input unit frame (``sample_rate / unit_frame_rate``,
    rounded); the real output length is decided by the attention decoder. ``frame_rate`` (Hz):
    the unit rate the model was trained on, declared exactly (22050 / 220 is not 100 Hz), which
    the pipeline checks against the encoder's instead of ``sample_rate / hop_length``.
    """

    def __init__(self, tacotron: Tacotron2, hparams: dict, code_dict: dict, waveglow: WaveGlow,
                 unit_frame_rate: float = 50.0, max_decoder_steps: int = 2000,
                 denoiser_strength: float = 0.1, sigma: float = 0.666):
        super().__init__()
        self.tacotron, self.waveglow, self.denoiser = tacotron, waveglow, Denoiser(waveglow)
        self.code_dict = code_dict
        self.collapse_code = bool(hparams.get("collapse_code", False))
        self.add_sos, self.add_eos = bool(hparams.get("add_sos", False)), bool(hparams.get("add_eos", False))
        self.sample_rate = int(tacotron.cfg.sampling_rate)
        self.hop_length = int(round(self.sample_rate / unit_frame_rate))
        self.frame_rate = float(unit_frame_rate)
        self.vocab_size = sum(1 for c in code_dict if c.isdigit())
        self.max_decoder_steps, self.denoiser_strength, self.sigma = max_decoder_steps, denoiser_strength, sigma
        self.last_has_eos: bool | None = None

    def tokens(self, units: Units) -> torch.Tensor:
        """Units -> Tacotron input ``[N] int64``, as GSLM's ``TacotronInputDataset.get_tensor``."""
        seq = units.units if self.collapse_code or units.durations is None else units.expanded().units
        labels = [str(int(u)) for u in seq]
        labels = (["<s>"] if self.add_sos else []) + labels + (["</s>"] if self.add_eos else [])
        return torch.tensor(units_to_tokens(labels, self.code_dict, self.collapse_code), dtype=torch.long)

    @torch.no_grad()
    def synthesize(self, units: Units, speaker=None, noise=None) -> torch.Tensor:
        """``units`` -> ``wav: [T] float32`` at ``sample_rate`` Hz. Stochastic (prenet dropout and
        WaveGlow noise): seed torch for repeatable output, or pass WaveGlow ``noise``."""
        tok = self.tokens(units)
        if tok.numel() == 0:
            raise TextlessError(f"{units.id or 'units'}: no unit of the input is in this model's code_dict")
        device = self.tacotron.embedding.weight.device
        labels = None if speaker is None else torch.tensor([int(speaker)], device=device)
        _, mel, _, _, self.last_has_eos = self.tacotron.inference(tok[None].to(device), labels, self.max_decoder_steps)
        aud = self.waveglow.infer(mel.float(), sigma=self.sigma, noise=noise)
        return self.denoiser(aud, strength=self.denoiser_strength)[:, 0][0].float()


def load_gslm_vocoder(tts_path, code_dict_path, waveglow_path, device="cpu", **kwargs) -> GSLMVocoder:
    """The three official files -> :class:`GSLMVocoder` (``kwargs``: see its constructor)."""
    tacotron, hp = load_tacotron(tts_path, device)
    code_dict = read_code_dict(code_dict_path)
    if len(code_dict) > tacotron.cfg.n_symbols:
        raise CheckpointError(f"{code_dict_path}: {len(code_dict)} tokens, the model embeds {tacotron.cfg.n_symbols}")
    return GSLMVocoder(tacotron, hp, code_dict, load_waveglow(waveglow_path, device), **kwargs).to(device).eval()


def load_bundle(bundle, files, device="cpu") -> GSLMVocoder:
    """Hub loader (:data:`textless.bundle.Loader`) of a GSLM Tacotron2 vocoder bundle: file roles
    ``checkpoint`` (``tts_checkpoint_best.pt``), ``codes`` (``code_dict``) and ``waveglow``
    (``waveglow_256channels_standalone.pt``); the bundle's ``frame_rate`` is the unit rate."""
    missing = sorted({"checkpoint", "codes", "waveglow"} - set(files))
    if missing:
        raise CheckpointError(f"{bundle.name}: a GSLM Tacotron2 vocoder needs file roles {missing}")
    return load_gslm_vocoder(files["checkpoint"], files["codes"], files["waveglow"], device,
                             unit_frame_rate=bundle.frame_rate or 50.0)


def load_waveglow_bundle(bundle, files, device="cpu") -> WaveGlow:
    """Hub loader of the standalone WaveGlow bundle (``files["checkpoint"]``): mel -> waveform."""
    return load_waveglow(files["checkpoint"], device)


__all__ = ["load_bundle", "load_waveglow_bundle", "safe_load", "load_tacotron", "load_waveglow", "read_code_dict", "units_to_tokens",
           "fold_weight_norm", "GSLMVocoder", "load_gslm_vocoder", "tacotron_config", "waveglow_config"]
