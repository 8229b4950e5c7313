"""GSLM Tacotron2: random weights in the official layout -> our loader, against a plain reference.

The reference below is written from docs/gslm_unit2speech.md with explicit LSTM-cell equations,
batch norm and location-sensitive attention on the official key names; prenet dropout is drawn
with ``F.dropout(..., training=True)`` in the reference's call order, so equal seeds give equal masks.
"""

from __future__ import annotations

import sys
import types

import pytest
import torch
import torch.nn.functional as F

from textless.errors import CheckpointError

HP = dict(n_symbols=9, symbols_embedding_dim=16, encoder_kernel_size=5, encoder_n_convolutions=3,
          encoder_embedding_dim=16, n_mel_channels=6, n_frames_per_step=1, attention_rnn_dim=20,
          decoder_rnn_dim=18, prenet_dim=12, max_decoder_steps=7, gate_threshold=0.5, attention_dim=10,
          attention_location_n_filters=4, attention_location_kernel_size=7, postnet_embedding_dim=14,
          postnet_kernel_size=5, postnet_n_convolutions=5, obs_dim=0, obs_n_class=1, lat_dim=0,
          mask_padding=True, sampling_rate=22050, fp16_run=False, text_or_code="code", collapse_code=True,
          add_sos=False, add_eos=False, code_key="hubert_km100", code_dict="/checkpoint/x/code_dict")


def _hparams_class():
    """A class of a module that is not importable at load time, like the authors' hparams."""
    mod = sys.modules.setdefault("gslm_train_hparams", types.ModuleType("gslm_train_hparams"))
    if not hasattr(mod, "HParams"):
        cls = type("HParams", (), {})
        cls.__module__ = "gslm_train_hparams"
        mod.HParams = cls
    return mod.HParams


def official_state(hp, seed=0):
    from textless.vocoders.tacotron2 import Tacotron2, Tacotron2Config

    cfg = Tacotron2Config(**{k: v for k, v in hp.items() if k in Tacotron2Config.__dataclass_fields__})
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for k, v in Tacotron2(cfg).state_dict().items():
        if k.endswith("num_batches_tracked"):
            sd[k] = torch.tensor(5)
        elif k.endswith("running_var"):
            sd[k] = 0.5 + torch.rand(v.shape, generator=g)
        else:
            sd[k] = torch.randn(v.shape, generator=g) * 0.3
    return sd


def write_official(path, hp=HP, state=None):
    h = _hparams_class()()
    h.__dict__.update(hp)
    torch.save({"hparams": h, "model_dict": official_state(hp) if state is None else state,
                "iteration": 1000}, path)
    return path


# ---------------------------------------------------------------------------------- reference
def lin(w, x, name, bias=False):
    return F.linear(x, w[name + ".linear_layer.weight"], w.get(name + ".linear_layer.bias") if bias else None)


def conv_bn(w, x, name):
    k = w[name + ".0.conv.weight"].shape[-1]
    x = F.conv1d(x, w[name + ".0.conv.weight"], w[name + ".0.conv.bias"], padding=(k - 1) // 2)
    rm, rv = w[name + ".1.running_mean"], w[name + ".1.running_var"]
    return ((x - rm[:, None]) / torch.sqrt(rv[:, None] + 1e-5)) * w[name + ".1.weight"][:, None] + w[name + ".1.bias"][:, None]


def cell(x, h, c, w, p, sfx=""):
    g = x @ w[f"{p}weight_ih{sfx}"].T + w[f"{p}bias_ih{sfx}"] + h @ w[f"{p}weight_hh{sfx}"].T + w[f"{p}bias_hh{sfx}"]
    i, f, gg, o = g.chunk(4, -1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
    return torch.sigmoid(o) * torch.tanh(c), c


def ref_encoder(w, tokens, length=None):
    """One item ``[N]`` (padded with token 0) -> ``[length, D]``. The convs run over the padded row,
    pad tokens included, as the reference's batched convs do; the BiLSTM sees ``length`` steps."""
    x = w["embedding.weight"][tokens].T[None]
    for i in range(HP["encoder_n_convolutions"]):
        x = torch.relu(conv_bn(w, x, f"encoder.convolutions.{i}"))
    x = x[0].T[: len(tokens) if length is None else length]
    hd = HP["encoder_embedding_dim"] // 2
    outs = []
    for sfx, order in (("_l0", range(len(x))), ("_l0_reverse", reversed(range(len(x))))):
        h = c = torch.zeros(hd)
        res = [None] * len(x)
        for t in order:
            h, c = cell(x[t], h, c, w, "encoder.lstm.", sfx)
            res[t] = h
        outs.append(torch.stack(res))
    return torch.cat(outs, -1)


def ref_prenet(w, x):
    for i in range(2):
        x = F.dropout(torch.relu(lin(w, x, f"decoder.prenet.layers.{i}")), 0.5, training=True)
    return x


def ref_decode(w, memory, mask, prenet_out, st):
    """One decoder step on [B, ...] tensors; ``st`` holds the states."""
    st["ah"], st["ac"] = cell(torch.cat((prenet_out, st["ctx"]), -1), st["ah"], st["ac"], w, "decoder.attention_rnn.")
    a = "decoder.attention_layer."
    loc = F.conv1d(torch.stack((st["w"], st["wcum"]), 1), w[a + "location_layer.location_conv.conv.weight"],
                   padding=(HP["attention_location_kernel_size"] - 1) // 2)
    e = lin(w, torch.tanh(lin(w, st["ah"][:, None], a + "query_layer") + lin(w, loc.transpose(1, 2), a + "location_layer.location_dense")
                          + lin(w, memory, a + "memory_layer")), a + "v")[..., 0]
    if mask is not None:
        e = e.masked_fill(mask, float("-inf"))
    st["w"] = torch.softmax(e, 1)
    st["ctx"] = (st["w"][..., None] * memory).sum(1)
    st["wcum"] = st["wcum"] + st["w"]
    st["dh"], st["dc"] = cell(torch.cat((st["ah"], st["ctx"]), -1), st["dh"], st["dc"], w, "decoder.decoder_rnn.")
    out = torch.cat((st["dh"], st["ctx"]), -1)
    return lin(w, out, "decoder.linear_projection", True), lin(w, out, "decoder.gate_layer", True)


def ref_states(b, n):
    z = torch.zeros
    return dict(ah=z(b, HP["attention_rnn_dim"]), ac=z(b, HP["attention_rnn_dim"]), dh=z(b, HP["decoder_rnn_dim"]),
                dc=z(b, HP["decoder_rnn_dim"]), w=z(b, n), wcum=z(b, n), ctx=z(b, HP["encoder_embedding_dim"]))


def ref_postnet(w, mel):
    x = mel
    for i in range(HP["postnet_n_convolutions"]):
        x = conv_bn(w, x, f"postnet.convolutions.{i}")
        if i < HP["postnet_n_convolutions"] - 1:
            x = torch.tanh(x)
    return mel + x


@torch.no_grad()
def ref_inference(w, tokens, max_steps):
    memory = ref_encoder(w, tokens)[None]
    st, x, mels, gates = ref_states(1, memory.shape[1]), torch.zeros(1, HP["n_mel_channels"]), [], []
    while True:
        mel, gate = ref_decode(w, memory, None, ref_prenet(w, x), st)
        mels.append(mel), gates.append(gate)
        if torch.sigmoid(gate) > HP["gate_threshold"]:
            break
        if len(mels) == max_steps:
            break
        x = mel
    mel = torch.stack(mels, -1)
    return mel, ref_postnet(w, mel), torch.cat(gates, 1)


# -------------------------------------------------------------------------------------- tests
@pytest.fixture
def official(tmp_path):
    return write_official(tmp_path / "tts_checkpoint_best.pt")


def test_free_running_fixed_length_matches_reference(official):
    from textless.vocoders.gslm_import import load_tacotron

    model, hp = load_tacotron(official)
    assert hp["code_key"] == "hubert_km100" and model.cfg.max_decoder_steps == 7
    w = dict(official_state(HP))
    w["decoder.gate_layer.linear_layer.bias"] = torch.tensor([-50.0])  # never stops: fixed length
    model.decoder.gate_layer.linear_layer.bias.data.fill_(-50.0)
    tokens = torch.tensor([3, 1, 4, 1, 5, 8, 2])
    torch.manual_seed(11)
    mel, post, gate, align, has_eos = model.inference(tokens[None])
    torch.manual_seed(11)
    rmel, rpost, rgate = ref_inference(w, tokens, 7)
    assert mel.shape == (1, 6, 7) and not has_eos and align.shape == (1, 7, 7)
    torch.testing.assert_close(mel, rmel, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(post, rpost, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(gate, rgate, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(align.sum(-1), torch.ones(1, 7))
    torch.manual_seed(12)  # the prenet dropout is on at inference: another seed, another mel
    assert (model.inference(tokens[None])[0] - mel).abs().max() > 1e-4


def test_gate_stops_decoding(official):
    from textless.vocoders.gslm_import import load_tacotron

    model, _ = load_tacotron(official)
    model.decoder.gate_layer.linear_layer.bias.data.fill_(50.0)
    mel, _, _, _, has_eos = model.inference(torch.tensor([[1, 2, 3]]))
    assert has_eos and mel.shape[-1] == 1


def test_teacher_forcing_batch_matches_reference(official):
    from textless.vocoders.gslm_import import load_tacotron

    model, _ = load_tacotron(official)
    w = official_state(HP)
    tokens = torch.tensor([[1, 5, 2, 7, 3], [4, 4, 8, 0, 0]])
    lengths = torch.tensor([5, 3])
    mels = torch.randn(2, 6, 4)
    torch.manual_seed(3)
    mel, post, gate, align = model(tokens, lengths, mels, output_lengths=torch.tensor([4, 2]))
    torch.manual_seed(3)
    with torch.no_grad():
        mem = torch.zeros(2, 5, HP["encoder_embedding_dim"])
        for b in range(2):
            mem[b, : lengths[b]] = ref_encoder(w, tokens[b], int(lengths[b]))
        inputs = ref_prenet(w, torch.cat((torch.zeros(1, 2, 6), mels.permute(2, 0, 1)), 0))
        mask = torch.arange(5)[None] >= lengths[:, None]
        st, outs = ref_states(2, 5), []
        for t in range(4):
            outs.append(ref_decode(w, mem, mask, inputs[t], st))
        rmel = torch.stack([o[0] for o in outs], -1)
        rgate = torch.cat([o[1] for o in outs], 1)
        rpost = ref_postnet(w, rmel)
    rmel[1, :, 2:], rpost[1, :, 2:], rgate[1, 2:] = 0.0, 0.0, 1e3
    torch.testing.assert_close(mel, rmel, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(post, rpost, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(gate, rgate, atol=1e-5, rtol=1e-5)
    assert float(align.detach()[1, :, 3:].abs().max()) == 0.0  # padded inputs get no attention


def test_converter_errors(tmp_path):
    from textless.vocoders.gslm_import import load_tacotron

    sd = official_state(HP)
    with pytest.raises(CheckpointError, match="unknown keys.*decoder.extra"):
        load_tacotron(write_official(tmp_path / "a.pt", state=dict(sd, **{"decoder.extra": torch.zeros(1)})))
    with pytest.raises(CheckpointError, match="missing keys.*postnet.convolutions.4.1.running_mean"):
        load_tacotron(write_official(tmp_path / "b.pt", state={k: v for k, v in sd.items()
                                                                 if k != "postnet.convolutions.4.1.running_mean"}))
    with pytest.raises(CheckpointError, match="embedding.weight: shape"):
        load_tacotron(write_official(tmp_path / "c.pt", state=dict(sd, **{"embedding.weight": torch.zeros(5, 16)})))
    with pytest.raises(CheckpointError, match="text_or_code"):
        load_tacotron(write_official(tmp_path / "d.pt", hp=dict(HP, text_or_code="text")))
    torch.save({"model": sd}, tmp_path / "e.pt")
    with pytest.raises(CheckpointError, match="not a GSLM Tacotron2"):
        load_tacotron(tmp_path / "e.pt")


def test_code_dict_and_tokens(tmp_path):
    from textless.vocoders.gslm_import import read_code_dict, units_to_tokens

    (tmp_path / "code_dict").write_text("7\n3\n0\n")
    d = read_code_dict(tmp_path / "code_dict")
    assert d == {"_": 0, "7": 1, "3": 2, "0": 3}
    assert units_to_tokens("<s> 3 3 7 5 7 7 0 </s>".split(), d, True) == [2, 1, 3]  # 5 unknown: 7 5 7 7 -> one 7
    assert units_to_tokens("3 3 7".split(), d, False) == [2, 2, 1]


def test_gslm_vocoder_end_to_end(tmp_path):
    """Units -> tokens (dedup, code_dict) -> Tacotron2 -> WaveGlow -> denoiser, as GSLM chains them."""
    from tests.vocoders.test_waveglow import HP as WG_HP, write_official as write_waveglow

    from textless.pipeline import Vocoder
    from textless.units import Units
    from textless.vocoders.gslm_import import load_gslm_vocoder

    hp = dict(HP, n_mel_channels=80)
    tts = write_official(tmp_path / "tts.pt", hp=hp)
    wg = write_waveglow(tmp_path / "wg.pt", hp=dict(WG_HP, n_mel_channels=80))
    (tmp_path / "code_dict").write_text("\n".join(str(u) for u in range(8)) + "\n")
    voc = load_gslm_vocoder(tts, tmp_path / "code_dict", wg, max_decoder_steps=6)
    voc.tacotron.decoder.gate_layer.linear_layer.bias.data.fill_(-50.0)  # fixed length: 6 frames
    assert isinstance(voc, Vocoder) and voc.sample_rate == 22050 and voc.vocab_size == 8
    units = Units(torch.tensor([3, 3, 3, 5, 1, 1, 7]))
    assert voc.tokens(units).tolist() == [4, 6, 2, 8]  # deduplicated, token = unit + 1 here
    torch.manual_seed(0)
    wav = voc.synthesize(units)
    assert wav.shape == (6 * 256,) and torch.isfinite(wav).all() and voc.last_has_eos is False
    torch.manual_seed(0)
    torch.testing.assert_close(voc.synthesize(units), wav, atol=0, rtol=0)
    # the same through the pieces
    torch.manual_seed(0)
    _, mel, _, _, _ = voc.tacotron.inference(torch.tensor([[4, 6, 2, 8]]), max_decoder_steps=6)
    aud = voc.waveglow.infer(mel, sigma=0.666)
    torch.testing.assert_close(voc.denoiser(aud, 0.1)[0, 0], wav, atol=1e-6, rtol=1e-6)
