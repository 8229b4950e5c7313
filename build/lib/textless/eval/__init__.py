"""Evaluation: ABX (:mod:`.abx`), sWUGGY/sBLIMP (:mod:`.lexical`), ASR WER/PER (:mod:`.asr`),
bitrate (:mod:`.bitrate`) and reports (:mod:`.report`). Import the submodules you need."""
