"""The GSLM and fairseq S2UT part of the official zoo (facts in docs/zoo_gslm.md, docs/models.md).

GSLM Tacotron2 unit-to-speech vocoders (Tacotron2 + the shared WaveGlow + denoiser: three files
under the roles ``checkpoint``, ``codes``, ``waveglow``), the standalone WaveGlow, GSLM's log-mel
and wav2vec 2.0 encoders and k-means, GSLM's twelve unit LM archives and fairseq's S2UT unit
HiFi-GANs. Files published without a sha256 have ``sha256=None``: their hash is recorded on first
use (trust on first use, textless.bundle), after checking the published ``md5`` where there is
one. Keyword :class:`~textless.bundle.Bundle` literals, looked up through
:func:`textless.hub.registry`.
"""

from __future__ import annotations

from .bundle import Bundle, RemoteFile
from .encoders.fairseq_import import load_gslm_w2v2_bundle as load_gslm_w2v2
from .encoders.fbank import load_bundle as load_fbank
from .quantizers.kmeans import load_bundle as load_kmeans
from .ulm.checkpoint import load_bundle as load_ulm
from .vocoders.checkpoint import load_bundle as load_hifigan
from .vocoders.gslm_import import load_bundle as load_tacotron, load_waveglow_bundle

_FAIRSEQ = "MIT (fairseq release)"
_TEXTLESSLIB = "upstream terms (textlesslib release)"

#: The WaveGlow every GSLM Tacotron2 vocoder shares (one file in the cache).
_WAVEGLOW = RemoteFile("waveglow", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/waveglow_256channels_standalone.pt",
                       "f383c7fd785502fc6a6bffd604fc14cb35d6155cdde30c53faaaeafa8a904dab", "waveglow_256channels_standalone.pt")


def gslm_bundles() -> list[Bundle]:
    """GSLM Tacotron2 vocoders, log-mel and wav2vec 2.0 units, WaveGlow, GSLM unit LMs, fairseq S2UT
    unit HiFi-GANs."""
    return [
        Bundle(name="hubert-base-ls960-kmeans-50-tacotron", role="vocoder", format="tacotron2", loader=load_tacotron, sample_rate=22050, frame_rate=50.0, vocab_size=50, license=_TEXTLESSLIB,
               description="GSLM Tacotron2 unit-to-speech (HuBERT km50) + WaveGlow + denoiser, LJSpeech voice",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/tts_km50/tts_checkpoint_best.pt",
                              "335e881a897cfa3389804110de8ac3909159d4de395880fbf1d3167a9477451e", "hubert_base_ls960_kmeans_50_tacotron.pt"),
                   RemoteFile("codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/tts_km50/code_dict",
                              "5f01dd57fd3b4044fac93aaac2589bf49e34cbe1dc0713254c0f339ba2123bce", "hubert_base_ls960_kmeans_50_tacotron_codes.pt"),
                   _WAVEGLOW,
               )),
        Bundle(name="hubert-base-ls960-kmeans-100-tacotron", role="vocoder", format="tacotron2", loader=load_tacotron, sample_rate=22050, frame_rate=50.0, vocab_size=100, license=_TEXTLESSLIB,
               description="GSLM Tacotron2 unit-to-speech (HuBERT km100) + WaveGlow + denoiser, LJSpeech voice",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/tts_km100/tts_checkpoint_best.pt",
                              "b208f8d6433eb5524405aa29d2b5fdacddb63a182d9830b629232e63b3543e4d", "hubert_base_ls960_kmeans_100_tacotron.pt"),
                   RemoteFile("codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/tts_km100/code_dict",
                              "6d506216aa5bad159f167e2535293b4e5ec8e1073b64449d30b66b460ebf6da0", "hubert_base_ls960_kmeans_100_tacotron_codes.pt"),
                   _WAVEGLOW,
               )),
        Bundle(name="hubert-base-ls960-kmeans-200-tacotron", role="vocoder", format="tacotron2", loader=load_tacotron, sample_rate=22050, frame_rate=50.0, vocab_size=200, license=_TEXTLESSLIB,
               description="GSLM Tacotron2 unit-to-speech (HuBERT km200) + WaveGlow + denoiser, LJSpeech voice",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/tts_km200/tts_checkpoint_best.pt",
                              "093f009935a4dadd692db85e859246e369cb17be3aecd22038fb70af4d5b0590", "hubert_base_ls960_kmeans_200_tacotron.pt"),
                   RemoteFile("codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/tts_km200/code_dict",
                              "ea01ba3592e27c871b63b32e37d6532234edf7eee7077bdcc094061ee72922e6", "hubert_base_ls960_kmeans_200_tacotron_codes.pt"),
                   _WAVEGLOW,
               )),
        Bundle(name="cpc-big-ll6k-kmeans-50-tacotron", role="vocoder", format="tacotron2", loader=load_tacotron, sample_rate=22050, frame_rate=100.0, vocab_size=50, license=_TEXTLESSLIB,
               description="GSLM Tacotron2 on CPC km50 + WaveGlow + denoiser, LJSpeech voice",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/tts_km50/tts_checkpoint_best.pt",
                              "e80a46561d1ded73bbe6e7272fcd6b9943fb7607229040b06324f654b66396fd", "cpc_big_ll6k_kmeans_50_tacotron.pt"),
                   RemoteFile("codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/tts_km50/code_dict",
                              "5f01dd57fd3b4044fac93aaac2589bf49e34cbe1dc0713254c0f339ba2123bce", "cpc_big_ll6k_kmeans_50_tacotron_codes.pt"),
                   _WAVEGLOW,
               )),
        Bundle(name="cpc-big-ll6k-kmeans-100-tacotron", role="vocoder", format="tacotron2", loader=load_tacotron, sample_rate=22050, frame_rate=100.0, vocab_size=100, license=_TEXTLESSLIB,
               description="GSLM Tacotron2 on CPC km100 + WaveGlow + denoiser, LJSpeech voice",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/tts_km100/tts_checkpoint_best.pt",
                              "6cfe1ce4bbdfd0f531189f4013cefc9e1296aec62f8bc0172d68d088ab344a50", "cpc_big_ll6k_kmeans_100_tacotron.pt"),
                   RemoteFile("codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/tts_km100/code_dict",
                              "a343085a83c1acfc96a2bfecf5098b380e860cdbb832cbcbbb0bf1358bd7c932", "cpc_big_ll6k_kmeans_100_tacotron_codes.pt"),
                   _WAVEGLOW,
               )),
        Bundle(name="cpc-big-ll6k-kmeans-200-tacotron", role="vocoder", format="tacotron2", loader=load_tacotron, sample_rate=22050, frame_rate=100.0, vocab_size=200, license=_TEXTLESSLIB,
               description="GSLM Tacotron2 on CPC km200 + WaveGlow + denoiser, LJSpeech voice",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/tts_km200/tts_checkpoint_best.pt",
                              "5845b1c0a82d9176b9d8c33a32f098795c946077e741a9da2b665bafda17b7ff", "cpc_big_ll6k_kmeans_200_tacotron.pt"),
                   RemoteFile("codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/tts_km200/code_dict",
                              "48dae50f9f2d4561c4a84fa09ba748395808d7d3323b1d5754af71669117e2aa", "cpc_big_ll6k_kmeans_200_tacotron_codes.pt"),
                   _WAVEGLOW,
               )),
        Bundle(name="logmel-fbank", role="encoder", format="fbank", loader=load_fbank, sample_rate=16000, frame_rate=100.0, license=_FAIRSEQ,
               description="GSLM log-mel features: Kaldi fbank, 80 bins, 25 ms windows every 10 ms (torchaudio kaldi.fbank); computed, no file"),
        Bundle(name="logmel-fbank-kmeans-50", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=100.0, vocab_size=50, license=_FAIRSEQ,
               description="GSLM k-means 50 on log-mel filterbanks; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/logmel/km50/km.bin", None, "gslm_logmel_km50.bin"),)),
        Bundle(name="logmel-fbank-kmeans-100", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=100.0, vocab_size=100, license=_FAIRSEQ,
               description="GSLM k-means 100 on log-mel filterbanks; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/logmel/km100/km.bin", None, "gslm_logmel_km100.bin"),)),
        Bundle(name="logmel-fbank-kmeans-200", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=100.0, vocab_size=200, license=_FAIRSEQ,
               description="GSLM k-means 200 on log-mel filterbanks; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/logmel/km200/km.bin", None, "gslm_logmel_km200.bin"),)),
        Bundle(name="logmel-fbank-kmeans-50-tacotron", role="vocoder", format="tacotron2", loader=load_tacotron, sample_rate=22050, frame_rate=100.0, vocab_size=50, license=_FAIRSEQ,
               description="GSLM Tacotron2 on log-mel km50 + WaveGlow + denoiser, LJSpeech voice; sha256 recorded on first use (model: published md5 checked)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/logmel/tts_km50/tts_checkpoint_best.pt", None, "logmel_fbank_kmeans_50_tacotron.pt",
                              md5="932b3b8527c0125f5f964b57762eba49"),
                   RemoteFile("codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/logmel/tts_km50/code_dict", None, "logmel_fbank_kmeans_50_tacotron_codes"),
                   _WAVEGLOW,
               )),
        Bundle(name="logmel-fbank-kmeans-100-tacotron", role="vocoder", format="tacotron2", loader=load_tacotron, sample_rate=22050, frame_rate=100.0, vocab_size=100, license=_FAIRSEQ,
               description="GSLM Tacotron2 on log-mel km100 + WaveGlow + denoiser, LJSpeech voice; sha256 recorded on first use (model: published md5 checked)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/logmel/tts_km100/tts_checkpoint_best.pt", None, "logmel_fbank_kmeans_100_tacotron.pt",
                              md5="cde0b0d278a39011d0acbd5df27abdf4"),
                   RemoteFile("codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/logmel/tts_km100/code_dict", None, "logmel_fbank_kmeans_100_tacotron_codes"),
                   _WAVEGLOW,
               )),
        Bundle(name="logmel-fbank-kmeans-200-tacotron", role="vocoder", format="tacotron2", loader=load_tacotron, sample_rate=22050, frame_rate=100.0, vocab_size=200, license=_FAIRSEQ,
               description="GSLM Tacotron2 on log-mel km200 + WaveGlow + denoiser, LJSpeech voice; sha256 recorded on first use (model: published md5 checked)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/logmel/tts_km200/tts_checkpoint_best.pt", None, "logmel_fbank_kmeans_200_tacotron.pt",
                              md5="dba0f1d4de64bc7976718834010b23e7"),
                   RemoteFile("codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/logmel/tts_km200/code_dict", None, "logmel_fbank_kmeans_200_tacotron_codes"),
                   _WAVEGLOW,
               )),
        Bundle(name="w2v2-large-lv60", role="encoder", format="hubert", loader=load_gslm_w2v2, sample_rate=16000, frame_rate=50.0, license=_FAIRSEQ,
               description="wav2vec 2.0 Large, Libri-Light 60k h (wav2vec_vox_new.pt) as GSLM reads it: raw waveform, no chunks; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/fairseq/wav2vec/wav2vec_vox_new.pt", None, "wav2vec_vox_new.pt"),)),
        Bundle(name="w2v2-large-lv60-kmeans-50", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=50.0, layer=15, vocab_size=50, license=_FAIRSEQ,
               description="GSLM k-means 50 on wav2vec 2.0 Large L15 (GSLM reader layer 14); sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/w2v2/km50/km.bin", None, "gslm_w2v2_km50.bin"),)),
        Bundle(name="w2v2-large-lv60-kmeans-100", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=50.0, layer=15, vocab_size=100, license=_FAIRSEQ,
               description="GSLM k-means 100 on wav2vec 2.0 Large L15 (GSLM reader layer 14); sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/w2v2/km100/km.bin", None, "gslm_w2v2_km100.bin"),)),
        Bundle(name="w2v2-large-lv60-kmeans-200", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=50.0, layer=15, vocab_size=200, license=_FAIRSEQ,
               description="GSLM k-means 200 on wav2vec 2.0 Large L15 (GSLM reader layer 14); sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/w2v2/km200/km.bin", None, "gslm_w2v2_km200.bin"),)),
        Bundle(name="w2v2-large-lv60-kmeans-50-tacotron", role="vocoder", format="tacotron2", loader=load_tacotron, sample_rate=22050, frame_rate=50.0, vocab_size=50, license=_FAIRSEQ,
               description="GSLM Tacotron2 on wav2vec 2.0 km50 + WaveGlow + denoiser, LJSpeech voice; sha256 recorded on first use (model: published md5 checked)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/w2v2/tts_km50/tts_checkpoint_best.pt", None, "w2v2_large_lv60_kmeans_50_tacotron.pt",
                              md5="e3503d0ad822b2c24b89f68b857fedff"),
                   RemoteFile("codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/w2v2/tts_km50/code_dict", None, "w2v2_large_lv60_kmeans_50_tacotron_codes"),
                   _WAVEGLOW,
               )),
        Bundle(name="w2v2-large-lv60-kmeans-100-tacotron", role="vocoder", format="tacotron2", loader=load_tacotron, sample_rate=22050, frame_rate=50.0, vocab_size=100, license=_FAIRSEQ,
               description="GSLM Tacotron2 on wav2vec 2.0 km100 + WaveGlow + denoiser, LJSpeech voice; sha256 recorded on first use (model: published md5 checked)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/w2v2/tts_km100/tts_checkpoint_best.pt", None, "w2v2_large_lv60_kmeans_100_tacotron.pt",
                              md5="eb3666e456ae4c96bf2a1eec825c13ed"),
                   RemoteFile("codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/w2v2/tts_km100/code_dict", None, "w2v2_large_lv60_kmeans_100_tacotron_codes"),
                   _WAVEGLOW,
               )),
        Bundle(name="w2v2-large-lv60-kmeans-200-tacotron", role="vocoder", format="tacotron2", loader=load_tacotron, sample_rate=22050, frame_rate=50.0, vocab_size=200, license=_FAIRSEQ,
               description="GSLM Tacotron2 on wav2vec 2.0 km200 + WaveGlow + denoiser, LJSpeech voice; sha256 recorded on first use (model: published md5 checked)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/w2v2/tts_km200/tts_checkpoint_best.pt", None, "w2v2_large_lv60_kmeans_200_tacotron.pt",
                              md5="777d343e963c4d64f04d78eef032f4e8"),
                   RemoteFile("codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/w2v2/tts_km200/code_dict", None, "w2v2_large_lv60_kmeans_200_tacotron_codes"),
                   _WAVEGLOW,
               )),
        Bundle(name="waveglow", role="tts", format="waveglow", loader=load_waveglow_bundle, sample_rate=22050, license=_TEXTLESSLIB,
               description="WaveGlow 256 channels: 80-bin mel -> 22.05 kHz waveform (stage 2 of the GSLM Tacotron2 vocoders)",
               files=(RemoteFile("checkpoint", _WAVEGLOW.url, _WAVEGLOW.sha256, _WAVEGLOW.filename),)),
        Bundle(name="logmel-fbank-kmeans-50-ulm", role="ulm", format="transformer", loader=load_ulm, sample_rate=16000, frame_rate=100.0, vocab_size=50, license=_FAIRSEQ,
               description="unit LM (fairseq transformer_lm_big) on GSLM log-mel filterbank k-means 50; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/logmel/lm_km50/logmel50_lm.tgz", None, "gslm_logmel50_lm.tgz"),)),
        Bundle(name="logmel-fbank-kmeans-100-ulm", role="ulm", format="transformer", loader=load_ulm, sample_rate=16000, frame_rate=100.0, vocab_size=100, license=_FAIRSEQ,
               description="unit LM (fairseq transformer_lm_big) on GSLM log-mel filterbank k-means 100; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/logmel/lm_km100/logmel100_lm.tgz", None, "gslm_logmel100_lm.tgz"),)),
        Bundle(name="logmel-fbank-kmeans-200-ulm", role="ulm", format="transformer", loader=load_ulm, sample_rate=16000, frame_rate=100.0, vocab_size=200, license=_FAIRSEQ,
               description="unit LM (fairseq transformer_lm_big) on GSLM log-mel filterbank k-means 200; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/logmel/lm_km200/logmel200_lm.tgz", None, "gslm_logmel200_lm.tgz"),)),
        Bundle(name="cpc-big-ll6k-kmeans-50-ulm", role="ulm", format="transformer", loader=load_ulm, sample_rate=16000, frame_rate=100.0, vocab_size=50, license=_FAIRSEQ,
               description="unit LM (fairseq transformer_lm_big) on GSLM modified CPC (cpc-big-ll6k L2) k-means 50; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/lm_km50/cpc50_lm.tgz", None, "gslm_cpc50_lm.tgz"),)),
        Bundle(name="cpc-big-ll6k-kmeans-100-ulm", role="ulm", format="transformer", loader=load_ulm, sample_rate=16000, frame_rate=100.0, vocab_size=100, license=_FAIRSEQ,
               description="unit LM (fairseq transformer_lm_big) on GSLM modified CPC (cpc-big-ll6k L2) k-means 100; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/lm_km100/cpc100_lm.tgz", None, "gslm_cpc100_lm.tgz"),)),
        Bundle(name="cpc-big-ll6k-kmeans-200-ulm", role="ulm", format="transformer", loader=load_ulm, sample_rate=16000, frame_rate=100.0, vocab_size=200, license=_FAIRSEQ,
               description="unit LM (fairseq transformer_lm_big) on GSLM modified CPC (cpc-big-ll6k L2) k-means 200; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/lm_km200/cpc200_lm.tgz", None, "gslm_cpc200_lm.tgz"),)),
        Bundle(name="hubert-base-ls960-kmeans-50-ulm", role="ulm", format="transformer", loader=load_ulm, sample_rate=16000, frame_rate=50.0, vocab_size=50, license=_FAIRSEQ,
               description="unit LM (fairseq transformer_lm_big) on GSLM HuBERT base L6 k-means 50; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/lm_km50/hubert50_lm.tgz", None, "gslm_hubert50_lm.tgz"),)),
        Bundle(name="hubert-base-ls960-kmeans-100-ulm", role="ulm", format="transformer", loader=load_ulm, sample_rate=16000, frame_rate=50.0, vocab_size=100, license=_FAIRSEQ,
               description="unit LM (fairseq transformer_lm_big) on GSLM HuBERT base L6 k-means 100; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/lm_km100/hubert100_lm.tgz", None, "gslm_hubert100_lm.tgz"),)),
        Bundle(name="hubert-base-ls960-kmeans-200-ulm", role="ulm", format="transformer", loader=load_ulm, sample_rate=16000, frame_rate=50.0, vocab_size=200, license=_FAIRSEQ,
               description="unit LM (fairseq transformer_lm_big) on GSLM HuBERT base L6 k-means 200; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/lm_km200/hubert200_lm.tgz", None, "gslm_hubert200_lm.tgz"),)),
        Bundle(name="w2v2-large-lv60-kmeans-50-ulm", role="ulm", format="transformer", loader=load_ulm, sample_rate=16000, frame_rate=50.0, vocab_size=50, license=_FAIRSEQ,
               description="unit LM (fairseq transformer_lm_big) on GSLM wav2vec 2.0 Large (LV-60) k-means 50; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/w2v2/lm_km50/w2v2_50_lm.tgz", None, "gslm_w2v2_50_lm.tgz"),)),
        Bundle(name="w2v2-large-lv60-kmeans-100-ulm", role="ulm", format="transformer", loader=load_ulm, sample_rate=16000, frame_rate=50.0, vocab_size=100, license=_FAIRSEQ,
               description="unit LM (fairseq transformer_lm_big) on GSLM wav2vec 2.0 Large (LV-60) k-means 100; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/w2v2/lm_km100/w2v2_100_lm.tgz", None, "gslm_w2v2_100_lm.tgz"),)),
        Bundle(name="w2v2-large-lv60-kmeans-200-ulm", role="ulm", format="transformer", loader=load_ulm, sample_rate=16000, frame_rate=50.0, vocab_size=200, license=_FAIRSEQ,
               description="unit LM (fairseq transformer_lm_big) on GSLM wav2vec 2.0 Large (LV-60) k-means 200; sha256 recorded on first use",
               files=(RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/w2v2/lm_km200/w2v2_200_lm.tgz", None, "gslm_w2v2_200_lm.tgz"),)),
        Bundle(name="hubert-base-ls960-kmeans-100-hifigan-lj", role="vocoder", format="hifigan", loader=load_hifigan, sample_rate=16000, frame_rate=50.0, vocab_size=100, license=_FAIRSEQ,
               description="unit HiFi-GAN, HuBERT base L6 km100, LJSpeech (fairseq S2UT); sha256 recorded on first use",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/fairseq/speech_to_speech/vocoder/code_hifigan/hubert_base_100_lj/g_00500000", None, "code_hifigan_hubert_base_100_lj_g_00500000"),
                   RemoteFile("config", "https://dl.fbaipublicfiles.com/fairseq/speech_to_speech/vocoder/code_hifigan/hubert_base_100_lj/config.json", None, "code_hifigan_hubert_base_100_lj_config.json"),
               )),
        Bundle(name="mhubert-base-vp_en_es_fr-layer-11-kmeans-1000-hifigan-lj", role="vocoder", format="hifigan", loader=load_hifigan, sample_rate=16000, frame_rate=50.0, vocab_size=1000, license=_FAIRSEQ,
               description="unit HiFi-GAN, mHuBERT L11 km1000, English LJSpeech, duration predictor (fairseq S2UT); sha256 recorded on first use",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/fairseq/speech_to_speech/vocoder/code_hifigan/mhubert_vp_en_es_fr_it3_400k_layer11_km1000_lj/g_00500000", None, "code_hifigan_mhubert_vp_en_es_fr_it3_400k_layer11_km1000_lj_g_00500000"),
                   RemoteFile("config", "https://dl.fbaipublicfiles.com/fairseq/speech_to_speech/vocoder/code_hifigan/mhubert_vp_en_es_fr_it3_400k_layer11_km1000_lj/config.json", None, "code_hifigan_mhubert_vp_en_es_fr_it3_400k_layer11_km1000_lj_config.json"),
               )),
        Bundle(name="mhubert-base-vp_en_es_fr-layer-11-kmeans-1000-hifigan-es-css10", role="vocoder", format="hifigan", loader=load_hifigan, sample_rate=16000, frame_rate=50.0, vocab_size=1000, license=_FAIRSEQ,
               description="unit HiFi-GAN, mHuBERT L11 km1000, Spanish CSS10, duration predictor (fairseq S2UT); sha256 recorded on first use",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/fairseq/speech_to_speech/vocoder/code_hifigan/mhubert_vp_en_es_fr_it3_400k_layer11_km1000_es_css10/g_00500000", None, "code_hifigan_mhubert_vp_en_es_fr_it3_400k_layer11_km1000_es_css10_g_00500000"),
                   RemoteFile("config", "https://dl.fbaipublicfiles.com/fairseq/speech_to_speech/vocoder/code_hifigan/mhubert_vp_en_es_fr_it3_400k_layer11_km1000_es_css10/config.json", None, "code_hifigan_mhubert_vp_en_es_fr_it3_400k_layer11_km1000_es_css10_config.json"),
               )),
        Bundle(name="mhubert-base-vp_en_es_fr-layer-11-kmeans-1000-hifigan-fr-css10", role="vocoder", format="hifigan", loader=load_hifigan, sample_rate=16000, frame_rate=50.0, vocab_size=1000, license=_FAIRSEQ,
               description="unit HiFi-GAN, mHuBERT L11 km1000, French CSS10, duration predictor (fairseq S2UT); sha256 recorded on first use",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/fairseq/speech_to_speech/vocoder/code_hifigan/mhubert_vp_en_es_fr_it3_400k_layer11_km1000_fr_css10/g_00500000", None, "code_hifigan_mhubert_vp_en_es_fr_it3_400k_layer11_km1000_fr_css10_g_00500000"),
                   RemoteFile("config", "https://dl.fbaipublicfiles.com/fairseq/speech_to_speech/vocoder/code_hifigan/mhubert_vp_en_es_fr_it3_400k_layer11_km1000_fr_css10/config.json", None, "code_hifigan_mhubert_vp_en_es_fr_it3_400k_layer11_km1000_fr_css10_config.json"),
               )),
    ]
