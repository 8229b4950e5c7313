"""WaveGlow (NVIDIA, as used by GSLM's unit2speech) and the denoiser GSLM applies after it.

Semantics (docs/gslm_unit2speech.md):

* ``infer(mel, sigma)``: ``upsample`` (ConvTranspose1d, kernel 1024, stride 256) then drop the last
  ``1024 - 256`` samples; group ``n_group`` consecutive steps into channels (``[B, n_mel*G, T*256/G]``);
  start from noise ``sigma * N(0, 1)`` of ``n_remaining_channels``; for flows ``k = n_flows-1 .. 0``:
  affine coupling inverse ``a1 = (a1 - b) / exp(s)`` with ``(b, s) = WN_k(a0, mel)``, then the
  inverse of the invertible 1x1 conv (``W^-1`` computed in fp32); after flows with
  ``k % n_early_every == 0 and k > 0`` prepend ``sigma * N(0, 1)`` of ``n_early_size`` channels.
  Output ``[B, T_mel * 256]``.
* ``WN``: ``start`` 1x1 conv, ``n_layers`` dilated (2^i) gated layers conditioned on
  ``cond_layer(mel)`` (``tanh(first half) * sigmoid(second half)``), residual/skip 1x1 convs (the
  last layer is skip only), ``end`` 1x1 conv -> ``2 * n_half`` channels (``b`` first, then ``s``).
* :class:`Denoiser`: the magnitude STFT (1024 / hop 256 / Hann, periodic) of WaveGlow's output for
  an all-zero 80 x 88 mel at ``sigma=0`` is the "bias"; denoising subtracts ``strength * bias``
  from each frame's magnitude, clamps at 0 and inverts with the original phase (overlap-add with
  window-sum-square normalization, librosa 0.6 style).

Weights are plain (weight norm folded by the importer).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

KIND = "vocoder.waveglow"


@dataclass(frozen=True)
class WaveGlowConfig:
    """NVIDIA's constructor arguments (``WN_config`` flattened). Defaults: the 256-channel LJ model."""

    n_mel_channels: int = 80
    n_flows: int = 12
    n_group: int = 8
    n_early_every: int = 4
    n_early_size: int = 2
    n_layers: int = 8
    n_channels: int = 256
    kernel_size: int = 3
    upsample_kernel: int = 1024
    upsample_stride: int = 256


class _WN(nn.Module):
    def __init__(self, n_in: int, n_cond: int, c: WaveGlowConfig):
        super().__init__()
        n = c.n_channels
        self.n_channels, self.n_layers = n, c.n_layers
        self.start = nn.Conv1d(n_in, n, 1)
        self.end = nn.Conv1d(n, 2 * n_in, 1)
        self.cond_layer = nn.Conv1d(n_cond, 2 * n * c.n_layers, 1)
        self.in_layers = nn.ModuleList(
            nn.Conv1d(n, 2 * n, c.kernel_size, dilation=2 ** i, padding=(c.kernel_size * 2 ** i - 2 ** i) // 2)
            for i in range(c.n_layers))
        self.res_skip_layers = nn.ModuleList(
            nn.Conv1d(n, 2 * n if i < c.n_layers - 1 else n, 1) for i in range(c.n_layers))

    def forward(self, audio, spect):
        audio = self.start(audio)
        output = torch.zeros_like(audio)
        spect = self.cond_layer(spect)
        n = self.n_channels
        for i in range(self.n_layers):
            a = self.in_layers[i](audio) + spect[:, i * 2 * n: (i + 1) * 2 * n]
            acts = torch.tanh(a[:, :n]) * torch.sigmoid(a[:, n:])
            rs = self.res_skip_layers[i](acts)
            if i < self.n_layers - 1:
                audio = audio + rs[:, :n]
                output = output + rs[:, n:]
            else:
                output = output + rs
        return self.end(output)


class _InvConv(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv1d(c, c, 1, bias=False)

    def inverse(self, z):
        w_inv = self.conv.weight.squeeze(-1).float().inverse()[..., None].to(z.dtype)
        return F.conv1d(z, w_inv)


class WaveGlow(nn.Module):
    """Mel ``[B, n_mel, T]`` -> waveform ``[B, T * upsample_stride]`` (22050 Hz for GSLM's)."""

    def __init__(self, cfg: WaveGlowConfig = WaveGlowConfig()):
        super().__init__()
        self.cfg = cfg
        self.upsample = nn.ConvTranspose1d(cfg.n_mel_channels, cfg.n_mel_channels, cfg.upsample_kernel,
                                           stride=cfg.upsample_stride)
        self.WN, self.convinv = nn.ModuleList(), nn.ModuleList()
        n_half, remaining = cfg.n_group // 2, cfg.n_group
        for k in range(cfg.n_flows):
            if k % cfg.n_early_every == 0 and k > 0:
                n_half -= cfg.n_early_size // 2
                remaining -= cfg.n_early_size
            self.convinv.append(_InvConv(remaining))
            self.WN.append(_WN(n_half, cfg.n_mel_channels * cfg.n_group, cfg))
        self.n_remaining_channels = remaining

    def noise_shapes(self, batch: int, mel_frames: int) -> list[tuple]:
        """Shapes of the Gaussian draws of :meth:`infer`, in the order it draws them."""
        c = self.cfg
        t = mel_frames * c.upsample_stride // c.n_group
        early = [k for k in reversed(range(c.n_flows)) if k % c.n_early_every == 0 and k > 0]
        return [(batch, self.n_remaining_channels, t)] + [(batch, c.n_early_size, t)] * len(early)

    @torch.no_grad()
    def infer(self, spect, sigma: float = 1.0, noise: list | None = None, generator=None):
        """``spect: [B, n_mel, T]`` -> ``[B, T * 256]``. ``noise``: the standard-normal tensors in
        the order of :meth:`noise_shapes` (default: drawn with ``torch.randn``, ``generator``)."""
        c = self.cfg
        spect = self.upsample(spect)
        spect = spect[:, :, : spect.shape[2] - (c.upsample_kernel - c.upsample_stride)]
        b = spect.shape[0]
        spect = spect.unfold(2, c.n_group, c.n_group).permute(0, 2, 1, 3)
        spect = spect.reshape(b, spect.shape[1], -1).permute(0, 2, 1)
        shapes = self.noise_shapes(b, spect.shape[2] * c.n_group // c.upsample_stride)
        if noise is None:
            noise = [torch.randn(s, generator=generator, dtype=spect.dtype, device=spect.device) for s in shapes]
        if [tuple(z.shape) for z in noise] != shapes:
            raise ValueError(f"noise shapes {[tuple(z.shape) for z in noise]}, expected {shapes}")
        draws = iter(noise)
        audio = sigma * next(draws).to(spect)
        for k in reversed(range(c.n_flows)):
            n_half = audio.shape[1] // 2
            a0, a1 = audio[:, :n_half], audio[:, n_half:]
            out = self.WN[k](a0, spect)
            s, bias = out[:, n_half:], out[:, :n_half]
            audio = torch.cat([a0, (a1 - bias) / torch.exp(s)], 1)
            audio = self.convinv[k].inverse(audio)
            if k % c.n_early_every == 0 and k > 0:
                audio = torch.cat((sigma * next(draws).to(spect), audio), 1)
        return audio.permute(0, 2, 1).reshape(b, -1)


# ------------------------------------------------------------------------------------ denoiser
@functools.lru_cache(maxsize=4)
def _stft_bases(filter_length: int, hop_length: int, win_length: int):
    """(forward_basis, inverse_basis, window) as float32 arrays, the reference's construction."""
    scale = filter_length / hop_length
    fourier = np.fft.fft(np.eye(filter_length))
    cutoff = filter_length // 2 + 1
    fourier = np.vstack([np.real(fourier[:cutoff]), np.imag(fourier[:cutoff])])
    forward = fourier[:, None, :].astype(np.float32)
    inverse = np.linalg.pinv(scale * fourier).T[:, None, :].astype(np.float32)
    n = np.arange(win_length)
    win = 0.5 - 0.5 * np.cos(2 * np.pi * n / win_length)  # periodic Hann (scipy fftbins=True)
    pad = (filter_length - win_length) // 2
    win = np.pad(win, (pad, filter_length - win_length - pad))
    return forward, inverse, win


class STFT(nn.Module):
    """Conv-based STFT / inverse STFT of the reference (reflect padding by ``filter_length / 2``)."""

    def __init__(self, filter_length=1024, hop_length=256, win_length=1024):
        super().__init__()
        self.filter_length, self.hop_length, self.win_length = filter_length, hop_length, win_length
        fwd, inv, win = _stft_bases(filter_length, hop_length, win_length)
        w = torch.from_numpy(win).float()
        self.register_buffer("forward_basis", torch.from_numpy(fwd) * w, persistent=False)
        self.register_buffer("inverse_basis", torch.from_numpy(inv) * w, persistent=False)
        self._win = win

    def transform(self, x):
        """``x: [B, N]`` -> (magnitude, phase) ``[B, filter_length/2 + 1, N // hop + 1]``."""
        p = self.filter_length // 2
        x = F.pad(x[:, None, None], (p, p, 0, 0), mode="reflect")[:, 0]
        spec = F.conv1d(x, self.forward_basis, stride=self.hop_length)
        cutoff = p + 1
        re, im = spec[:, :cutoff], spec[:, cutoff:]
        return torch.sqrt(re ** 2 + im ** 2), torch.atan2(im, re)

    def window_sumsquare(self, n_frames: int) -> np.ndarray:
        n = self.filter_length + self.hop_length * (n_frames - 1)
        x = np.zeros(n, dtype=np.float32)
        win_sq = self._win ** 2
        for i in range(n_frames):
            s = i * self.hop_length
            x[s: min(n, s + self.filter_length)] += win_sq[: max(0, min(self.filter_length, n - s))]
        return x

    def inverse(self, magnitude, phase):
        """-> ``[B, 1, (frames - 1) * hop]``."""
        spec = torch.cat([magnitude * torch.cos(phase), magnitude * torch.sin(phase)], dim=1)
        out = F.conv_transpose1d(spec, self.inverse_basis, stride=self.hop_length)
        wss = self.window_sumsquare(magnitude.shape[-1])
        idx = torch.from_numpy(np.where(wss > np.finfo(np.float32).tiny)[0]).to(out.device)
        wss = torch.from_numpy(wss).to(out.device)
        out[:, :, idx] /= wss[idx]
        out = out * (float(self.filter_length) / self.hop_length)
        p = self.filter_length // 2
        return out[:, :, p: out.shape[2] - p]


class Denoiser(nn.Module):
    """GSLM's WaveGlow denoiser (``mode="zeros"``): ``forward(audio [B, N], strength)`` -> ``[B, 1, N']``
    with ``N' = (N // 256) * 256``."""

    def __init__(self, waveglow: WaveGlow, filter_length=1024, n_overlap=4, win_length=1024):
        super().__init__()
        self.stft = STFT(filter_length, filter_length // n_overlap, win_length)
        p = next(waveglow.parameters())
        mel = torch.zeros(1, waveglow.cfg.n_mel_channels, 88, dtype=p.dtype, device=p.device)
        zeros = [torch.zeros(s, dtype=p.dtype, device=p.device) for s in waveglow.noise_shapes(1, 88)]
        with torch.no_grad():
            bias_audio = waveglow.infer(mel, sigma=0.0, noise=zeros).float()
            bias_spec, _ = self.stft.transform(bias_audio)
        self.register_buffer("bias_spec", bias_spec[:, :, 0][:, :, None], persistent=False)

    @torch.no_grad()
    def forward(self, audio, strength: float = 0.1):
        mag, phase = self.stft.transform(audio.float())
        mag = torch.clamp(mag - self.bias_spec * strength, 0.0)
        return self.stft.inverse(mag, phase)


__all__ = ["WaveGlow", "WaveGlowConfig", "Denoiser", "STFT", "KIND"]
