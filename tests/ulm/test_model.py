"""UnitLM: the KV cache equals the full forward, gradients are causal, checkpoints round-trip."""

import pytest
import torch

from textless.pipeline import UnitLanguageModel
from textless.ulm.checkpoint import load_ulm, save_ulm
from textless.ulm.model import UnitLM, UnitLMConfig
from textless.ulm.sample import generate


@pytest.fixture
def model():
    torch.manual_seed(0)
    return UnitLM(UnitLMConfig.tiny(vocab_size=20)).eval()


def test_protocol_and_token_space(model):
    assert isinstance(model, UnitLanguageModel)
    assert model.vocab_size == 20 and model.eos == 20 and model.pad == 21
    assert model.embed.weight.shape == (22, 32)
    assert model.unit_token_mask().sum() == 20


def test_kv_cache_equals_full_forward(model):
    tokens = torch.randint(0, 20, (3, 17))
    tokens[:, 0] = model.eos
    full = model(tokens)
    cache = model.new_cache(3, 17)
    # prefill 5, then chunks of 1, 4 and the rest one by one
    parts = [model(tokens[:, :5], cache), model(tokens[:, 5:6], cache), model(tokens[:, 6:10], cache)]
    parts += [model(tokens[:, t:t + 1], cache) for t in range(10, 17)]
    stepped = torch.cat(parts, dim=1)
    assert cache.length == 17
    torch.testing.assert_close(stepped, full, atol=1e-5, rtol=1e-5)


def test_cached_generation_equals_recompute(model):
    prompt = torch.tensor([model.eos, 3, 4, 5])
    a, la = generate(model, prompt, num_samples=3, max_new_tokens=12, temperature=1.0,
                     generator=torch.Generator().manual_seed(1), stop_at_eos=False)
    b, lb = generate(model, prompt, num_samples=3, max_new_tokens=12, temperature=1.0,
                     generator=torch.Generator().manual_seed(1), stop_at_eos=False, use_cache=False)
    assert torch.equal(a, b) and torch.equal(la, lb)
    assert a.shape == (3, 12)


def test_gradients_are_causal():
    torch.manual_seed(0)
    model = UnitLM(UnitLMConfig.tiny(vocab_size=20)).eval()
    T = 9
    x = model.embed_tokens(torch.randint(0, 20, (1, T))).detach().requires_grad_(True)
    # run the blocks on input vectors directly, to differentiate w.r.t. every position
    h = x
    for i, layer in enumerate(model.layers):
        h = layer(h, None, i, None)
    out = model.norm(h)
    w = torch.randn(out.shape[-1])  # a plain sum of a LayerNorm output has zero gradient
    for t in range(T):
        (g,) = torch.autograd.grad((out[0, t] * w).sum(), x, retain_graph=True)
        norms = g[0].norm(dim=-1)
        assert torch.all(norms[t + 1:] == 0), f"position {t} depends on a later one"
        assert norms[t] > 0


def test_padding_does_not_change_real_positions(model):
    tokens = torch.tensor([[model.eos, 1, 2, 3, 4]])
    padded = torch.tensor([[model.eos, 1, 2, 3, 4, model.pad, model.pad]])
    torch.testing.assert_close(model(padded)[:, :5], model(tokens), atol=1e-5, rtol=1e-5)


def test_checkpoint_round_trip(model, tmp_path):
    path = save_ulm(tmp_path / "lm.safetensors", model)
    loaded = load_ulm(path)
    assert loaded.config == model.config
    tokens = torch.tensor([[model.eos, 1, 5, 7]])
    assert torch.equal(loaded(tokens), model(tokens))
    from textless.components import load_component

    assert torch.equal(load_component(path)(tokens), model(tokens))


def test_sizes():
    big = UnitLMConfig.gslm_big(vocab_size=100)
    assert (big.num_layers, big.dim, big.ffn_dim, big.num_heads) == (12, 1024, 4096, 16)
    with pytest.raises(ValueError):
        UnitLMConfig(dim=30, num_heads=4)


def test_hub_user_bundle(model, tmp_path):
    """``textless models import lm.safetensors --as NAME --role ulm`` then load by name."""
    from textless.hub import get_bundle, import_file

    path = save_ulm(tmp_path / "lm.safetensors", model)
    import_file(path, "my-ulm", role="ulm")
    loaded = get_bundle("my-ulm").get_model()
    tokens = torch.tensor([[model.eos, 2, 3]])
    assert torch.equal(loaded(tokens), model(tokens))
