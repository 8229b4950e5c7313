"""A literal transcription of fairseq/textlesslib ``CodeGenerator`` (checkpoint_formats.md §3),
used only as the reference in parity tests: old-style ``weight_norm`` (``weight_g``/``weight_v``
keys), fairseq's ``_upsample``, concatenation order code, f0, spkr, style.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import remove_weight_norm, weight_norm

LRELU_SLOPE = 0.1


def get_padding(k, d=1):
    return int((k * d - d) / 2)


class ResBlock1(nn.Module):
    def __init__(self, ch, k, d):
        super().__init__()
        self.convs1 = nn.ModuleList(weight_norm(nn.Conv1d(ch, ch, k, 1, dilation=di, padding=get_padding(k, di))) for di in d)
        self.convs2 = nn.ModuleList(weight_norm(nn.Conv1d(ch, ch, k, 1, dilation=1, padding=get_padding(k, 1))) for _ in d)

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = F.leaky_relu(x, LRELU_SLOPE)
            xt = c1(xt)
            xt = F.leaky_relu(xt, LRELU_SLOPE)
            xt = c2(xt)
            x = xt + x
        return x

    def remove_weight_norm(self):
        for l in list(self.convs1) + list(self.convs2):
            remove_weight_norm(l)


class VariancePredictor(nn.Module):
    def __init__(self, p):
        super().__init__()
        k = p["var_pred_kernel_size"]
        self.conv1 = nn.Sequential(nn.Conv1d(p["encoder_embed_dim"], p["var_pred_hidden_dim"], k, padding=(k - 1) // 2), nn.ReLU())
        self.ln1 = nn.LayerNorm(p["var_pred_hidden_dim"])
        self.dropout = p["var_pred_dropout"]
        self.conv2 = nn.Sequential(nn.Conv1d(p["var_pred_hidden_dim"], p["var_pred_hidden_dim"], k, padding=1), nn.ReLU())
        self.ln2 = nn.LayerNorm(p["var_pred_hidden_dim"])
        self.proj = nn.Linear(p["var_pred_hidden_dim"], 1)

    def forward(self, x):
        x = self.conv1(x.transpose(1, 2)).transpose(1, 2)
        x = F.dropout(self.ln1(x), p=self.dropout, training=self.training)
        x = self.conv2(x.transpose(1, 2)).transpose(1, 2)
        x = F.dropout(self.ln2(x), p=self.dropout, training=self.training)
        return self.proj(x).squeeze(dim=2)


class Generator(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.num_kernels = len(cfg["resblock_kernel_sizes"])
        self.num_upsamples = len(cfg["upsample_rates"])
        c0 = cfg["upsample_initial_channel"]
        self.conv_pre = weight_norm(nn.Conv1d(cfg.get("model_in_dim", 80), c0, 7, 1, padding=3))
        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(cfg["upsample_rates"], cfg["upsample_kernel_sizes"])):
            self.ups.append(weight_norm(nn.ConvTranspose1d(c0 // (2**i), c0 // (2 ** (i + 1)), k, u, padding=(k - u) // 2)))
        self.resblocks = nn.ModuleList()
        for i in range(len(self.ups)):
            ch = c0 // (2 ** (i + 1))
            for k, d in zip(cfg["resblock_kernel_sizes"], cfg["resblock_dilation_sizes"]):
                self.resblocks.append(ResBlock1(ch, k, d))
        self.conv_post = weight_norm(nn.Conv1d(ch, 1, 7, 1, padding=3))

    def forward(self, x):
        x = self.conv_pre(x)
        for i in range(self.num_upsamples):
            x = F.leaky_relu(x, LRELU_SLOPE)
            x = self.ups[i](x)
            xs = None
            for j in range(self.num_kernels):
                if xs is None:
                    xs = self.resblocks[i * self.num_kernels + j](x)
                else:
                    xs += self.resblocks[i * self.num_kernels + j](x)
            x = xs / self.num_kernels
        x = F.leaky_relu(x)
        x = self.conv_post(x)
        return torch.tanh(x)

    def remove_weight_norm(self):
        for l in self.ups:
            remove_weight_norm(l)
        for l in self.resblocks:
            l.remove_weight_norm()
        remove_weight_norm(self.conv_pre)
        remove_weight_norm(self.conv_post)


class CodeGenerator(Generator):
    def __init__(self, cfg):
        super().__init__(cfg)
        self.dict = nn.Embedding(cfg["num_embeddings"], cfg["embedding_dim"])
        self.multispkr = cfg.get("multispkr", None)
        self.embedder = cfg.get("embedder_params", None)
        if self.multispkr and not self.embedder:
            self.spkr = nn.Embedding(cfg.get("num_speakers", 200), cfg["embedding_dim"])
        elif self.embedder:
            self.spkr = nn.Linear(cfg.get("embedder_dim", 256), cfg["embedding_dim"])
        self.multistyle = cfg.get("multistyle", None)
        if self.multistyle:
            self.style = nn.Embedding(cfg.get("num_styles", 100), cfg["embedding_dim"])
        self.dur_predictor = None
        if cfg.get("dur_predictor_params", None):
            self.dur_predictor = VariancePredictor(cfg["dur_predictor_params"])
        self.f0 = cfg.get("f0", None)
        n_f0_bin = cfg.get("f0_quant_num_bin", 0)
        self.f0_quant_embed = None if n_f0_bin <= 0 else nn.Embedding(n_f0_bin, cfg["embedding_dim"])

    @staticmethod
    def _upsample(signal, max_frames):
        if signal.dim() == 3:
            bsz, channels, cond_length = signal.size()
        elif signal.dim() == 2:
            signal = signal.unsqueeze(2)
            bsz, channels, cond_length = signal.size()
        else:
            signal = signal.view(-1, 1, 1)
            bsz, channels, cond_length = signal.size()
        signal = signal.unsqueeze(3).repeat(1, 1, 1, max_frames // cond_length)
        reminder = (max_frames - signal.shape[2] * signal.shape[3]) // signal.shape[3]
        if reminder > 0:
            raise NotImplementedError("misalignment")
        return signal.view(bsz, channels, max_frames)

    def forward(self, **kwargs):
        x = self.dict(kwargs["code"]).transpose(1, 2)
        if self.dur_predictor and kwargs.get("dur_prediction", False):
            assert x.size(0) == 1
            log_dur_pred = self.dur_predictor(x.transpose(1, 2))
            dur_out = torch.clamp(torch.round((torch.exp(log_dur_pred) - 1)).long(), min=1)
            x = torch.repeat_interleave(x, dur_out.view(-1), dim=2)
        if self.f0:
            if self.f0_quant_embed:
                kwargs["f0"] = self.f0_quant_embed(kwargs["f0"].long()).transpose(1, 2)
            else:
                kwargs["f0"] = kwargs["f0"].unsqueeze(1)
            if x.shape[-1] < kwargs["f0"].shape[-1]:
                x = self._upsample(x, kwargs["f0"].shape[-1])
            elif x.shape[-1] > kwargs["f0"].shape[-1]:
                kwargs["f0"] = self._upsample(kwargs["f0"], x.shape[-1])
            x = torch.cat([x, kwargs["f0"]], dim=1)
        if self.multispkr:
            spkr = self.spkr(kwargs["spkr"]).transpose(1, 2)
            spkr = self._upsample(spkr, x.shape[-1])
            x = torch.cat([x, spkr], dim=1)
        if self.multistyle:
            style = self.style(kwargs["style"]).transpose(1, 2)
            style = self._upsample(style, x.shape[-1])
            x = torch.cat([x, style], dim=1)
        return super().forward(x)
