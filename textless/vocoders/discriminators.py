"""GAN discriminators: multi-period (MPD), multi-scale (MSD) and multi-resolution (MRD, for UnitVocos).

Both take ``wav: [B, 1, T]`` and return ``(scores, feature_maps)`` lists, one entry per
sub-discriminator. ``width`` scales every channel count (1.0 = the original HiFi-GAN sizes;
smaller widths train faster on a CPU).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

LRELU_SLOPE = 0.1


def _ch(c: int, width: float) -> int:
    """Channels scaled by ``width``, a multiple of 4 (at least 4)."""
    return max(4, 4 * int(round(c * width / 4)))


def conv_stack(convs, conv_post, x):
    """Run a discriminator's convs (leaky ReLU after each) and its output conv:
    ``(flattened scores [B, N], feature maps of every layer)``."""
    fmap = []
    for conv in convs:
        x = F.leaky_relu(conv(x), LRELU_SLOPE)
        fmap.append(x)
    x = conv_post(x)
    fmap.append(x)
    return torch.flatten(x, 1, -1), fmap


def each_discriminator(discriminators, wav):
    """``([scores of each], [feature maps of each])`` of ``discriminators`` on the same ``wav``."""
    scores, fmaps = [], []
    for d in discriminators:
        s, f = d(wav)
        scores.append(s)
        fmaps.append(f)
    return scores, fmaps


class PeriodDiscriminator(nn.Module):
    """Folds ``[B, 1, T]`` into ``[B, 1, T / p, p]`` (reflect-padded) and runs 2-D convs."""

    def __init__(self, period: int, width: float = 1.0, kernel_size: int = 5, stride: int = 3):
        super().__init__()
        self.period = period
        chans = [1] + [_ch(c, width) for c in (32, 128, 512, 1024)]
        pad = ((kernel_size - 1) // 2, 0)
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(chans[i], chans[i + 1], (kernel_size, 1), (stride, 1), padding=pad))
            for i in range(4)
        )
        self.convs.append(weight_norm(nn.Conv2d(chans[-1], chans[-1], (kernel_size, 1), 1, padding=pad)))
        self.conv_post = weight_norm(nn.Conv2d(chans[-1], 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, x):
        b, c, t = x.shape
        if t % self.period:
            n_pad = self.period - t % self.period
            x = F.pad(x, (0, n_pad), "reflect")
            t = t + n_pad
        x = x.view(b, c, t // self.period, self.period)
        return conv_stack(self.convs, self.conv_post, x)


class MultiPeriodDiscriminator(nn.Module):
    def __init__(self, periods=(2, 3, 5, 7, 11), width: float = 1.0):
        super().__init__()
        self.discriminators = nn.ModuleList(PeriodDiscriminator(p, width) for p in periods)

    def forward(self, wav):
        return each_discriminator(self.discriminators, wav)


class ScaleDiscriminator(nn.Module):
    """1-D grouped convs over the waveform (spectral norm on the first scale)."""

    def __init__(self, width: float = 1.0, use_spectral_norm: bool = False):
        super().__init__()
        norm = spectral_norm if use_spectral_norm else weight_norm
        c = lambda n: _ch(n, width)  # noqa: E731
        import math

        specs = [  # (in, out, kernel, stride, groups, padding)
            (1, c(128), 15, 1, 1, 7),
            (c(128), c(128), 41, 2, 4, 20),
            (c(128), c(256), 41, 2, 16, 20),
            (c(256), c(512), 41, 4, 16, 20),
            (c(512), c(1024), 41, 4, 16, 20),
            (c(1024), c(1024), 41, 1, 16, 20),
            (c(1024), c(1024), 5, 1, 1, 2),
        ]
        self.convs = nn.ModuleList(
            norm(nn.Conv1d(i, o, k, s, groups=math.gcd(gr, math.gcd(i, o)), padding=p)) for i, o, k, s, gr, p in specs
        )
        self.conv_post = norm(nn.Conv1d(c(1024), 1, 3, 1, padding=1))

    def forward(self, x):
        return conv_stack(self.convs, self.conv_post, x)


class MultiScaleDiscriminator(nn.Module):
    """Three scales: the waveform, then twice average-pooled (kernel 4, stride 2, padding 2)."""

    def __init__(self, width: float = 1.0, scales: int = 3):
        super().__init__()
        self.discriminators = nn.ModuleList(
            ScaleDiscriminator(width, use_spectral_norm=(i == 0)) for i in range(scales)
        )
        self.pool = nn.AvgPool1d(4, 2, padding=2)

    def forward(self, wav):
        scores, fmaps = [], []
        for i, d in enumerate(self.discriminators):
            if i:
                wav = self.pool(wav)
            s, f = d(wav)
            scores.append(s)
            fmaps.append(f)
        return scores, fmaps


class ResolutionDiscriminator(nn.Module):
    """2-D convs over a linear magnitude spectrogram ``[B, 1, n_fft // 2 + 1, frames]`` of the
    waveform (UnivNet's MRD, used by Vocos): Hann window ``n_fft``, hop ``hop_length``."""

    def __init__(self, n_fft: int, hop_length: int, width: float = 1.0):
        super().__init__()
        self.n_fft, self.hop_length = n_fft, hop_length
        ch = _ch(128, width)
        specs = [(1, (7, 5), (2, 2), (3, 2)), (ch, (5, 3), (2, 1), (2, 1)), (ch, (5, 3), (2, 2), (2, 1)),
                 (ch, (3, 3), (2, 1), (1, 1)), (ch, (3, 3), (2, 2), (1, 1))]  # (in, kernel, stride, padding)
        self.convs = nn.ModuleList(weight_norm(nn.Conv2d(i, ch, k, s, padding=p)) for i, k, s, p in specs)
        self.conv_post = weight_norm(nn.Conv2d(ch, 1, (3, 3), padding=(1, 1)))
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, wav):
        x = wav.reshape(-1, wav.shape[-1])
        pad = (self.n_fft - self.hop_length) // 2
        x = F.pad(x.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
        spec = torch.stft(x, self.n_fft, self.hop_length, window=self.window, center=False, return_complex=True)
        x = torch.sqrt(spec.real**2 + spec.imag**2 + 1e-9).unsqueeze(1)
        return conv_stack(self.convs, self.conv_post, x)


class MultiResolutionDiscriminator(nn.Module):
    """Three :class:`ResolutionDiscriminator` s, ``(n_fft, hop)`` = (1024, 256), (2048, 512),
    (512, 128) (UnivNet/Vocos). ``width`` scales their 128 channels (0.25: UnivNet's 32)."""

    def __init__(self, resolutions=((1024, 256), (2048, 512), (512, 128)), width: float = 1.0):
        super().__init__()
        self.discriminators = nn.ModuleList(ResolutionDiscriminator(n, h, width) for n, h in resolutions)

    def forward(self, wav):
        return each_discriminator(self.discriminators, wav)
