"""WaveGlow (standalone official layout, weight-normed) and GSLM's denoiser, against plain references.

WaveGlow's reference below follows docs/gslm_unit2speech.md, draws its noise the way the original
does (``torch.FloatTensor(...).normal_()`` on the global RNG) and uses weight norm as
``g * v / ||v||``. The denoiser is checked against ``torch.stft`` / ``torch.istft`` (an
independent STFT with the same Hann window, reflect padding and overlap-add normalization).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from textless.errors import CheckpointError

HP = dict(n_mel_channels=6, n_flows=4, n_group=8, n_early_every=2, n_early_size=2,
          WN_config=dict(n_layers=2, n_channels=8, kernel_size=3))


def official_state(hp=HP, seed=0):
    """Keys and shapes written out from the NVIDIA module tree (weight norm on start, cond_layer,
    in_layers, res_skip_layers)."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g) * 0.3  # noqa: E731
    n_mel, G, wn = hp["n_mel_channels"], hp["n_group"], hp["WN_config"]
    C, L, K = wn["n_channels"], wn["n_layers"], wn["kernel_size"]
    sd = {"upsample.weight": r(n_mel, n_mel, 1024) * 0.1, "upsample.bias": r(n_mel)}

    def wnorm(name, o, i, k):
        sd[name + ".weight_g"], sd[name + ".weight_v"], sd[name + ".bias"] = r(o, 1, 1).abs() + 0.1, r(o, i, k), r(o)

    n_half, rem = G // 2, G
    for k in range(hp["n_flows"]):
        if k % hp["n_early_every"] == 0 and k > 0:
            n_half -= hp["n_early_size"] // 2
            rem -= hp["n_early_size"]
        q = torch.linalg.qr(torch.randn(rem, rem, generator=g))[0]
        sd[f"convinv.{k}.conv.weight"] = q[..., None]
        wnorm(f"WN.{k}.start", C, n_half, 1)
        sd[f"WN.{k}.end.weight"], sd[f"WN.{k}.end.bias"] = r(2 * n_half, C, 1) * 0.3, r(2 * n_half) * 0.3
        wnorm(f"WN.{k}.cond_layer", 2 * C * L, n_mel * G, 1)
        for i in range(L):
            wnorm(f"WN.{k}.in_layers.{i}", 2 * C, C, K)
            wnorm(f"WN.{k}.res_skip_layers.{i}", 2 * C if i < L - 1 else C, C, 1)
    return sd


def write_official(path, state=None, hp=HP):
    torch.save({"hparams": hp, "model_dict": official_state(hp) if state is None else state}, path)
    return path


def W(sd, name):
    if name + ".weight" in sd:
        return sd[name + ".weight"]
    v = sd[name + ".weight_v"]
    return sd[name + ".weight_g"] * v / v.pow(2).sum((1, 2), keepdim=True).sqrt()


def ref_wn(sd, k, audio, spect, hp=HP):
    C, L, K = hp["WN_config"]["n_channels"], hp["WN_config"]["n_layers"], hp["WN_config"]["kernel_size"]
    p = f"WN.{k}."
    audio = F.conv1d(audio, W(sd, p + "start"), sd[p + "start.bias"])
    out = torch.zeros_like(audio)
    spect = F.conv1d(spect, W(sd, p + "cond_layer"), sd[p + "cond_layer.bias"])
    for i in range(L):
        d = 2 ** i
        x = F.conv1d(audio, W(sd, p + f"in_layers.{i}"), sd[p + f"in_layers.{i}.bias"], dilation=d,
                     padding=(K * d - d) // 2) + spect[:, i * 2 * C:(i + 1) * 2 * C]
        acts = torch.tanh(x[:, :C]) * torch.sigmoid(x[:, C:])
        rs = F.conv1d(acts, W(sd, p + f"res_skip_layers.{i}"), sd[p + f"res_skip_layers.{i}.bias"])
        if i < L - 1:
            audio, out = audio + rs[:, :C], out + rs[:, C:]
        else:
            out = out + rs
    return F.conv1d(out, sd[p + "end.weight"], sd[p + "end.bias"])


@torch.no_grad()
def ref_infer(sd, spect, sigma, noise=None, hp=HP):
    G = hp["n_group"]
    spect = F.conv_transpose1d(spect, sd["upsample.weight"], sd["upsample.bias"], stride=256)[:, :, :-768]
    B = spect.shape[0]
    spect = spect.unfold(2, G, G).permute(0, 2, 1, 3).contiguous().view(B, -1, hp["n_mel_channels"] * G).permute(0, 2, 1)
    rem = sd[f"convinv.{hp['n_flows'] - 1}.conv.weight"].shape[0]
    draws = iter(noise) if noise is not None else None
    draw = (lambda *s: next(draws)) if draws else (lambda *s: torch.FloatTensor(*s).normal_())
    audio = sigma * draw(B, rem, spect.size(2))
    for k in reversed(range(hp["n_flows"])):
        h = audio.size(1) // 2
        out = ref_wn(sd, k, audio[:, :h], spect)
        audio = torch.cat([audio[:, :h], (audio[:, h:] - out[:, :h]) / torch.exp(out[:, h:])], 1)
        audio = F.conv1d(audio, sd[f"convinv.{k}.conv.weight"].squeeze().inverse()[..., None])
        if k % hp["n_early_every"] == 0 and k > 0:
            audio = torch.cat((sigma * draw(B, hp["n_early_size"], spect.size(2)), audio), 1)
    return audio.permute(0, 2, 1).contiguous().view(B, -1)


@pytest.fixture
def official(tmp_path):
    return write_official(tmp_path / "waveglow_256channels_standalone.pt")


def test_infer_matches_reference_global_rng_and_fixed_noise(official):
    from textless.vocoders.gslm_import import load_waveglow

    model = load_waveglow(official)
    sd = official_state()
    mel = torch.randn(1, 6, 5)
    torch.manual_seed(7)
    ours = model.infer(mel, sigma=0.666)
    torch.manual_seed(7)
    ref = ref_infer(sd, mel, 0.666)
    assert ours.shape == (1, 5 * 256)
    torch.testing.assert_close(ours, ref, atol=1e-4, rtol=1e-4)
    noise = [torch.randn(s) for s in model.noise_shapes(2, 3)]
    mel2 = torch.randn(2, 6, 3)
    torch.testing.assert_close(model.infer(mel2, 0.5, noise=noise), ref_infer(sd, mel2, 0.5, noise), atol=1e-4, rtol=1e-4)
    assert (model.infer(mel2, 0.5, noise=noise) - model.infer(mel2, 0.3, noise=noise)).abs().max() > 1e-3


def test_converter_errors(tmp_path):
    from textless.vocoders.gslm_import import load_waveglow

    sd = official_state()
    with pytest.raises(CheckpointError, match="unknown keys.*WN.0.extra"):
        load_waveglow(write_official(tmp_path / "a.pt", dict(sd, **{"WN.0.extra": torch.zeros(1)})))
    with pytest.raises(CheckpointError, match="missing keys.*convinv.3.conv.weight"):
        load_waveglow(write_official(tmp_path / "b.pt", {k: v for k, v in sd.items() if k != "convinv.3.conv.weight"}))
    with pytest.raises(CheckpointError, match="WN.1.end.weight: shape"):
        load_waveglow(write_official(tmp_path / "c.pt", dict(sd, **{"WN.1.end.weight": torch.zeros(3, 8, 1)})))
    with pytest.raises(CheckpointError, match="weight_v without"):
        load_waveglow(write_official(tmp_path / "d.pt", {k: v for k, v in sd.items() if k != "WN.0.start.weight_g"}))
    torch.save({"model": sd}, tmp_path / "e.pt")
    with pytest.raises(CheckpointError, match="not a standalone WaveGlow"):
        load_waveglow(tmp_path / "e.pt")


def _hann(n=1024):
    return torch.hann_window(n, periodic=True, dtype=torch.float64).float()


def test_stft_matches_torch_stft():
    from textless.vocoders.waveglow import STFT

    x = torch.randn(2, 5000)
    mag, ph = STFT(1024, 256, 1024).transform(x)
    ref = torch.stft(x, 1024, 256, window=_hann(), center=True, pad_mode="reflect", return_complex=True)
    torch.testing.assert_close(mag, ref.abs(), atol=2e-3, rtol=1e-4)
    big = ref.abs() > 1e-2  # phase where it is defined: exp(i * phase) against X / |X|
    torch.testing.assert_close(torch.polar(torch.ones_like(ph), ph)[big], ref[big] / ref.abs()[big],
                               atol=1e-3, rtol=1e-3)


def test_denoiser_against_torch_istft(tmp_path):
    from textless.vocoders.gslm_import import load_waveglow
    from textless.vocoders.waveglow import Denoiser

    hp = dict(HP, n_mel_channels=80)  # the reference denoiser feeds an 80-band zero mel
    model = load_waveglow(write_official(tmp_path / "w80.pt", hp=hp))
    den = Denoiser(model)
    bias_audio = model.infer(torch.zeros(1, 80, 88), sigma=0.0, noise=[torch.zeros(s) for s in model.noise_shapes(1, 88)])
    bias = torch.stft(bias_audio, 1024, 256, window=_hann(), center=True, pad_mode="reflect", return_complex=True).abs()
    torch.testing.assert_close(den.bias_spec[0, :, 0], bias[0, :, 0], atol=1e-4, rtol=1e-3)
    x = torch.randn(1, 256 * 20) * 0.3
    # strength 0: STFT -> ISTFT is the identity
    torch.testing.assert_close(den(x, strength=0.0)[:, 0], x, atol=1e-4, rtol=1e-4)
    X = torch.stft(x, 1024, 256, window=_hann(), center=True, pad_mode="reflect", return_complex=True)
    mag = torch.clamp(X.abs() - den.bias_spec[:, :, 0][..., None] * 0.7, min=0.0)
    want = torch.istft(torch.polar(mag, X.angle()), 1024, 256, window=_hann(), center=True, length=x.shape[1])
    torch.testing.assert_close(den(x, strength=0.7)[:, 0], want, atol=1e-4, rtol=1e-4)
