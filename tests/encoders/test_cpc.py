"""CPC encoder: official checkpoint layout -> our model, against a plain reference written here.

The reference below follows docs/cpc.md (GSLM / textlesslib ``CpcFeatureReader``): five conv +
channel-norm + ReLU blocks, a ``num_layers``-layer ``nn.LSTM`` built from the checkpoint's first
layers, and the reader's chunk loop on a ``[1, 1, T]`` tensor, slicing exactly as it does.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from textless.errors import AudioTooShortError, CheckpointError

C, H, LEVELS = 16, 12, 4
CONV = ((10, 5, 3), (8, 4, 2), (4, 2, 1), (4, 2, 1), (4, 2, 1))


def official_weights(seed=0):
    g = torch.Generator().manual_seed(seed)
    w = {}
    for i, (k, _, _) in enumerate(CONV):
        w[f"gEncoder.conv{i}.weight"] = torch.randn(C, 1 if i == 0 else C, k, generator=g) * 0.3
        w[f"gEncoder.conv{i}.bias"] = torch.randn(C, generator=g) * 0.1
        w[f"gEncoder.batchNorm{i}.weight"] = 1 + 0.2 * torch.randn(1, C, 1, generator=g)
        w[f"gEncoder.batchNorm{i}.bias"] = 0.2 * torch.randn(1, C, 1, generator=g)
    for j in range(LEVELS):
        d = C if j == 0 else H
        w[f"gAR.baseNet.weight_ih_l{j}"] = torch.randn(4 * H, d, generator=g) * 0.3
        w[f"gAR.baseNet.weight_hh_l{j}"] = torch.randn(4 * H, H, generator=g) * 0.3
        w[f"gAR.baseNet.bias_ih_l{j}"] = torch.randn(4 * H, generator=g) * 0.1
        w[f"gAR.baseNet.bias_hh_l{j}"] = torch.randn(4 * H, generator=g) * 0.1
    return w


def write_official(path, weights=None, **config):
    cfg = {"hiddenEncoder": C, "hiddenGar": H, "nLevelsGRU": LEVELS, "arMode": "LSTM",
           "normMode": "layerNorm", "samplingType": "samespeaker", **config}
    torch.save({"weights": official_weights() if weights is None else weights, "config": cfg}, path)
    return path


class Reference:
    """Plain CPC reader: the maths of docs/cpc.md, nothing shared with textless.encoders.cpc."""

    def __init__(self, w, layer=2, max_chunk=64000):
        self.w, self.max_chunk = w, max_chunk
        self.lstm = torch.nn.LSTM(C, H, num_layers=layer, batch_first=True)
        self.lstm.load_state_dict({k[len("gAR.baseNet."):]: v for k, v in w.items()
                                   if k.startswith("gAR.baseNet.") and int(k[-1]) < layer})

    def conv_out(self, x):  # x: [1, 1, T] -> list of [1, C, F_i] after each block
        outs = []
        for i, (k, s, p) in enumerate(CONV):
            x = F.conv1d(x, self.w[f"gEncoder.conv{i}.weight"], self.w[f"gEncoder.conv{i}.bias"], stride=s, padding=p)
            mu, var = x.mean(1, keepdim=True), x.var(1, keepdim=True)
            x = (x - mu) / torch.sqrt(var + 1e-5)
            x = torch.relu(x * self.w[f"gEncoder.batchNorm{i}.weight"] + self.w[f"gEncoder.batchNorm{i}.bias"])
            outs.append(x)
        return outs

    def model(self, x, encoded=False):
        enc = self.conv_out(x)[-1].permute(0, 2, 1)
        return enc if encoded else self.lstm(enc)[0]

    @torch.no_grad()
    def get_feats(self, wav, encoded=False):
        x = wav.view(1, 1, -1)
        size, feat, start = x.size(2), [], 0
        while start < size:
            if start + self.max_chunk > size:
                break
            feat.append(self.model(x[..., start: start + self.max_chunk], encoded))
            start += self.max_chunk
        if start < size:
            x_chunk = x[:, -self.max_chunk:]
            chunk = self.model(x_chunk, encoded)
            df = x_chunk.size(2) // chunk.size(1)
            delta = (size - start) // df
            feat.append(chunk[:, -delta:])
        return torch.cat(feat, 1).squeeze(0)


@pytest.fixture
def official(tmp_path):
    return write_official(tmp_path / "cpc_big_ll6kh_top_ctc.pt")


def test_layer_by_layer_parity(official):
    from textless.encoders.cpc_import import load_cpc

    model = load_cpc(official, layer=2)
    ref = Reference(official_weights(), layer=2)
    wav = torch.randn(8000)
    # conv blocks one by one
    x, ours = wav.view(1, 1, -1), []
    for i in range(5):
        x = F.relu(getattr(model.gEncoder, f"batchNorm{i}")(getattr(model.gEncoder, f"conv{i}")(x)))
        ours.append(x)
    for i, (a, b) in enumerate(zip(ours, ref.conv_out(wav.view(1, 1, -1)))):
        assert a.shape == b.shape, i
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    feats, frames = model.features(wav[None], layer=0)
    torch.testing.assert_close(feats[0], ref.get_feats(wav, encoded=True), atol=1e-5, rtol=1e-5)
    l1 = Reference(official_weights(), layer=1).get_feats(wav)
    torch.testing.assert_close(model.features(wav[None], layer=1)[0][0], l1, atol=1e-5, rtol=1e-5)
    feats, frames = model.features(wav[None])
    assert feats.shape == (1, 50, H) and int(frames[0]) == 50 and model.frame_rate == 100
    torch.testing.assert_close(feats[0], ref.get_feats(wav), atol=1e-5, rtol=1e-5)
    assert (feats[0] - l1).abs().max() > 1e-2  # layer 2 is not layer 1


@pytest.mark.parametrize("n", [4800, 4800 + 1000, 4800 + 100, 1600 * 2, 1599])
def test_chunking_matches_reader_quirks(official, n):
    """max_chunk=1600 (10 frames): exact multiples, a tail, a tail shorter than one hop (the
    reader's ``[-0:]`` keeps the whole pass) and a single short chunk."""
    from textless.encoders.cpc_import import load_cpc

    model = load_cpc(official, max_chunk=1600)
    ref = Reference(official_weights(), max_chunk=1600)
    wav = torch.randn(n)
    want = ref.get_feats(wav)
    feats, frames = model.features(wav[None])
    assert int(frames[0]) == want.shape[0] == model.output_frames(n)
    torch.testing.assert_close(feats[0, : int(frames[0])], want, atol=1e-5, rtol=1e-5)
    if n == 4900:
        assert want.shape[0] == 30 + 30  # the quirk: 3 chunks of 10 + all 30 frames of the whole pass


def test_padded_batch_equals_items(official):
    from textless.encoders.cpc_import import load_cpc

    model = load_cpc(official)
    lens = [8000, 5123, 3001]
    wavs = [torch.randn(n) for n in lens]
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    batch[1, 5123:] = 7.0  # garbage in the padding must not leak
    feats, frames = model.features(batch, torch.tensor(lens))
    for i, w in enumerate(wavs):
        one, f1 = model.features(w[None])
        assert int(frames[i]) == int(f1[0])
        torch.testing.assert_close(feats[i, : int(frames[i])], one[0], atol=1e-5, rtol=1e-5)


def test_too_short_and_receptive_field(official):
    from textless.encoders.cpc_import import load_cpc

    model = load_cpc(official)
    assert model.features(torch.randn(1, model.receptive_field))[0].shape[1] == 1
    with pytest.raises(AudioTooShortError):
        model.features(torch.randn(1, model.receptive_field - 1))


def test_native_roundtrip(official, tmp_path):
    from textless.components import load_component
    from textless.encoders.cpc_import import load_cpc

    model = load_cpc(official)
    model.save(tmp_path / "cpc.safetensors")
    again = load_component(tmp_path / "cpc.safetensors")
    wav = torch.randn(1, 4000)
    torch.testing.assert_close(again.features(wav)[0], model.features(wav)[0], atol=0, rtol=0)


def test_converter_errors(tmp_path):
    from textless.encoders.cpc_import import load_cpc

    w = official_weights()
    bad = dict(w, **{"gPredictor.weight": torch.zeros(3)})
    with pytest.raises(CheckpointError, match="unknown keys.*gPredictor"):
        load_cpc(write_official(tmp_path / "a.pt", bad))
    missing = {k: v for k, v in w.items() if k != "gEncoder.conv3.bias"}
    with pytest.raises(CheckpointError, match="missing keys.*gEncoder.conv3.bias"):
        load_cpc(write_official(tmp_path / "b.pt", missing))
    shaped = dict(w, **{"gEncoder.batchNorm2.weight": torch.ones(C)})
    with pytest.raises(CheckpointError, match="gEncoder.batchNorm2.weight: shape"):
        load_cpc(write_official(tmp_path / "c.pt", shaped))
    with pytest.raises(CheckpointError, match="arMode"):
        load_cpc(write_official(tmp_path / "d.pt", arMode="GRU"))
    torch.save({"model": w}, tmp_path / "e.pt")
    with pytest.raises(CheckpointError, match="not a CPC checkpoint"):
        load_cpc(tmp_path / "e.pt")


def test_pickle_that_runs_code_is_refused(tmp_path):
    from textless.encoders.cpc_import import load_cpc

    class Evil:
        def __reduce__(self):
            import os
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    torch.save({"weights": official_weights(), "config": {"hiddenEncoder": C}, "x": Evil()},
               tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="refusing"):
        load_cpc(tmp_path / "evil.pt")
    assert not (tmp_path / "pwned").exists()
