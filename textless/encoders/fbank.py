"""Kaldi-compatible log-mel filterbanks: GSLM's ``logmel`` speech2unit features, bit for bit.

GSLM's log-mel reader calls ``torchaudio.compliance.kaldi.fbank(wav[None], num_mel_bins=80,
frame_length=25.0, sample_frequency=sr)`` on the float waveform as ``soundfile`` reads it (in
[-1, 1], no 16-bit scaling) and quantizes the ``[F, 80]`` result with its logmel k-means. Every
other argument keeps torchaudio's default; docs/zoo_gslm.md ("The log-mel encoder") lists them and
the semantics this module follows, step by step, per utterance:

1. frames of ``window_size = int(sr * 25 * 0.001)`` samples every ``window_shift = int(sr * 10 *
   0.001)`` (400 / 160 at 16 kHz); only whole frames (``snip_edges``): ``F = 1 + (T - 400) // 160``;
   fewer than 400 samples is an error;
2. no dither (torchaudio's default ``dither=0.0`` since 2020);
3. each frame minus its mean (``remove_dc_offset``);
4. pre-emphasis ``x[j] -= 0.97 * x[max(0, j - 1)]`` within the frame;
5. times the Povey window ``hann(400, periodic=False) ** 0.85``;
6. zero-padded to the next power of two (512) and ``|rfft|^2`` (257 bins);
7. times the Kaldi mel bank (80 triangles, equally spaced on ``1127 ln(1 + f / 700)`` between
   20 Hz and Nyquist, computed in float32; the Nyquist bin has weight 0);
8. ``log(max(energy, float32 eps))``. No energy column, no mean subtraction, no deltas, no CMVN.

Each utterance of a batch runs through the same torch operations on the same shapes as
torchaudio's ``fbank`` does for it alone, so features are identical to the reference (not merely
close) for the same torch build. Shapes: ``wav: [B, T]`` float32 -> ``[B, F, 80]`` at 100 Hz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AudioTooShortError, CheckpointError

KIND = "encoder.fbank"

#: ``numeric_limits<float>::epsilon()``: Kaldi's floor on every mel energy before the log.
EPSILON = torch.finfo(torch.float32).eps
WINDOWS = ("povey", "hanning", "hamming", "rectangular")


@dataclass(frozen=True)
class FbankConfig:
    """torchaudio ``kaldi.fbank`` arguments (times in ms, frequencies in Hz). Defaults: GSLM's
    log-mel reader at 16 kHz. ``high_freq <= 0`` is an offset from Nyquist."""

    sample_rate: int = 16000
    num_mel_bins: int = 80
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0
    preemphasis: float = 0.97
    remove_dc_offset: bool = True
    window: str = "povey"
    round_to_power_of_two: bool = True
    low_freq: float = 20.0
    high_freq: float = 0.0
    use_power: bool = True
    name: str = "logmel-fbank"

    def __post_init__(self):
        if self.window not in WINDOWS:
            raise CheckpointError(f"window must be one of {WINDOWS}, not {self.window!r}")
        if self.num_mel_bins <= 3:
            raise CheckpointError(f"num_mel_bins must be > 3, got {self.num_mel_bins}")
        if not 0.0 <= self.preemphasis <= 1.0:
            raise CheckpointError(f"preemphasis must be in [0, 1], got {self.preemphasis}")
        if window_sizes(self)[2] % 2:
            raise CheckpointError("the padded window is odd: use round_to_power_of_two or change frame_length_ms")

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / window_sizes(self)[1]


def next_power_of_two(n: int) -> int:
    """Smallest power of two >= ``n``.

    >>> next_power_of_two(400), next_power_of_two(512), next_power_of_two(551)
    (512, 512, 1024)
    """
    return 1 if n == 0 else 2 ** (n - 1).bit_length()


def window_sizes(cfg: FbankConfig) -> tuple[int, int, int]:
    """``(window_size, window_shift, padded_window_size)`` in samples, truncated as Kaldi does.

    >>> window_sizes(FbankConfig()), window_sizes(FbankConfig(sample_rate=22050))
    ((400, 160, 512), (551, 220, 1024))
    """
    size = int(cfg.sample_rate * cfg.frame_length_ms * 0.001)
    shift = int(cfg.sample_rate * cfg.frame_shift_ms * 0.001)
    return size, shift, next_power_of_two(size) if cfg.round_to_power_of_two else size


def feature_window(kind: str, size: int, dtype=torch.float32, device=None) -> torch.Tensor:
    """Kaldi's analysis windows (symmetric). ``povey`` = ``hann ** 0.85``, zero at both ends.

    >>> [round(w, 6) for w in feature_window("povey", 5).tolist()]  # 0.5 ** 0.85 = 0.554785
    [0.0, 0.554785, 1.0, 0.554785, 0.0]
    """
    kw = dict(dtype=dtype, device=device)
    if kind == "povey":
        return torch.hann_window(size, periodic=False, **kw).pow(0.85)
    if kind == "hanning":
        return torch.hann_window(size, periodic=False, **kw)
    if kind == "hamming":
        return torch.hamming_window(size, periodic=False, alpha=0.54, beta=0.46, **kw)
    return torch.ones(size, **kw)


def mel_scale(freq):
    """Kaldi's mel scale ``1127 ln(1 + f / 700)`` (a float or a tensor)."""
    if isinstance(freq, torch.Tensor):
        return 1127.0 * (1.0 + freq / 700.0).log()
    return 1127.0 * math.log(1.0 + freq / 700.0)


def mel_banks(num_bins: int, padded_window_size: int, sample_rate: float, low_freq: float = 20.0,
              high_freq: float = 0.0) -> torch.Tensor:
    """Kaldi triangular filters ``[num_bins, padded_window_size // 2 + 1]`` (float32).

    Filter ``k`` rises from ``left_k`` to ``center_k`` and falls to ``right_k`` on the mel scale,
    the edges ``mel(low) + (k, k + 1, k + 2) * delta`` with ``delta = (mel(high) - mel(low)) /
    (num_bins + 1)``; FFT bin ``j`` sits at ``mel(j * sample_rate / padded)``. The weights are
    computed in float32 in torchaudio's order; the last (Nyquist) column is zero.
    """
    nyquist = 0.5 * sample_rate
    if high_freq <= 0.0:
        high_freq += nyquist
    if not (0.0 <= low_freq < nyquist and 0.0 < high_freq <= nyquist and low_freq < high_freq):
        raise CheckpointError(f"bad mel range: low {low_freq} Hz, high {high_freq} Hz, Nyquist {nyquist} Hz")
    fft_bin_width = sample_rate / padded_window_size
    mel_low, mel_high = mel_scale(low_freq), mel_scale(high_freq)
    delta = (mel_high - mel_low) / (num_bins + 1)
    k = torch.arange(num_bins).unsqueeze(1)
    left = mel_low + k * delta
    center = mel_low + (k + 1.0) * delta
    right = mel_low + (k + 2.0) * delta
    mel = mel_scale(fft_bin_width * torch.arange(padded_window_size / 2)).unsqueeze(0)
    up = (mel - left) / (center - left)
    down = (right - mel) / (right - center)
    bank = torch.max(torch.zeros(1), torch.min(up, down))
    return F.pad(bank, (0, 1), mode="constant", value=0.0)


def num_frames(lengths, cfg: FbankConfig = FbankConfig()):
    """Whole frames in ``lengths`` samples (``1 + (T - size) // shift``; 0 below one window).

    >>> num_frames(400), num_frames(559), num_frames(560), num_frames(16000), num_frames(399)
    (1, 1, 2, 98, 0)
    """
    size, shift, _ = window_sizes(cfg)
    if isinstance(lengths, torch.Tensor):
        return torch.where(lengths >= size, 1 + (lengths - size).clamp_min(0) // shift, 0)
    return 1 + (lengths - size) // shift if lengths >= size else 0


class FbankEncoder(nn.Module):
    """Kaldi log-mel filterbanks implementing :class:`textless.pipeline.Encoder` (``layer`` is
    ignored: there are none). No weights; the config is the whole model."""

    def __init__(self, cfg: FbankConfig = FbankConfig()):
        super().__init__()
        self.cfg = cfg
        size, shift, padded = window_sizes(cfg)
        self.sample_rate = cfg.sample_rate
        self.hop_length = shift
        self.frame_rate = cfg.frame_rate
        self.receptive_field = size
        self.dim = cfg.num_mel_bins
        self.num_layers = 0
        self.register_buffer("bank", mel_banks(cfg.num_mel_bins, padded, cfg.sample_rate, cfg.low_freq,
                                               cfg.high_freq), persistent=False)

    def num_frames(self, lengths):
        return num_frames(lengths, self.cfg)

    def output_frames(self, length: int) -> int:
        return int(num_frames(length, self.cfg))

    def power_spectrum(self, wav: torch.Tensor) -> torch.Tensor:
        """One waveform ``[T]`` -> ``[F, padded // 2 + 1]``: steps 1-6 (framing, DC removal,
        pre-emphasis, window, zero padding, ``|rfft|^2``), torchaudio's operations on its shapes."""
        size, shift, padded = window_sizes(self.cfg)
        frames = wav.as_strided((int(num_frames(wav.numel(), self.cfg)), size), (shift * wav.stride(0), wav.stride(0)))
        if self.cfg.remove_dc_offset:
            frames = frames - torch.mean(frames, dim=1).unsqueeze(1)
        if self.cfg.preemphasis != 0.0:
            previous = F.pad(frames.unsqueeze(0), (1, 0), mode="replicate").squeeze(0)
            frames = frames - self.cfg.preemphasis * previous[:, :-1]
        frames = frames * feature_window(self.cfg.window, size, frames.dtype, frames.device).unsqueeze(0)
        if padded != size:
            frames = F.pad(frames.unsqueeze(0), (0, padded - size), mode="constant", value=0).squeeze(0)
        spectrum = torch.fft.rfft(frames).abs()
        return spectrum.pow(2.0) if self.cfg.use_power else spectrum

    def utterance(self, wav: torch.Tensor) -> torch.Tensor:
        """One waveform ``[T]`` -> ``[F, num_mel_bins]``: steps 7-8 on :meth:`power_spectrum`."""
        energies = torch.mm(self.power_spectrum(wav), self.bank.to(wav.dtype).T)
        return torch.max(energies, torch.tensor(EPSILON, dtype=energies.dtype, device=energies.device)).log()

    @torch.inference_mode()
    def features(self, wav: torch.Tensor, lengths: torch.Tensor | None = None, layer: int | None = None):
        """``wav: [B, T]`` float (+ valid ``lengths: [B]`` samples) -> ``(feats [B, F, D] float32,
        frames [B])``, padding frames zero. Raises :class:`AudioTooShortError` below one window."""
        if wav.dim() == 1:
            wav = wav[None]
        b, t = wav.shape
        lengths = torch.full((b,), t, dtype=torch.long) if lengths is None else lengths.long().cpu()
        if int(lengths.min()) < self.receptive_field:
            raise AudioTooShortError(
                f"{int(lengths.min())} samples: log-mel filterbanks need at least {self.receptive_field}")
        wav = wav.float()
        feats = [self.utterance(wav[i, : int(n)]) for i, n in enumerate(lengths.tolist())]
        frames = torch.tensor([f.shape[0] for f in feats], dtype=torch.long, device=wav.device)
        return nn.utils.rnn.pad_sequence(feats, batch_first=True), frames

    def save(self, path):
        """Write this encoder as a textless file (kind ``encoder.fbank``: the config, no tensors)."""
        from ..checkpoint import save_checkpoint

        return save_checkpoint(path, KIND, self.cfg, {})


def from_native(config: dict, state_dict: dict, device="cpu") -> FbankEncoder:
    """``encoder.fbank`` entry of :data:`textless.components.NATIVE_LOADERS`."""
    from ..checkpoint import config_from_dict

    if state_dict:
        raise CheckpointError(f"filterbank encoder files hold no tensors, got {sorted(state_dict)[:3]}")
    return FbankEncoder(config_from_dict(FbankConfig, config)).to(device).eval()


def load_bundle(bundle, files: dict, device="cpu") -> FbankEncoder:
    """Hub loader (:data:`textless.bundle.Loader`): GSLM's log-mel features need no file."""
    return FbankEncoder(FbankConfig(sample_rate=bundle.sample_rate or 16000)).to(device).eval()


__all__ = ["FbankConfig", "FbankEncoder", "mel_banks", "mel_scale", "feature_window", "num_frames",
           "window_sizes", "next_power_of_two", "from_native", "load_bundle", "KIND", "EPSILON"]
