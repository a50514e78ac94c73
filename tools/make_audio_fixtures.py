#!/usr/bin/env python3
"""Generate the audio front-end fixtures: synthetic clips in several container formats plus
the reference outputs of a 16 kHz resampler and of transformers' Gemma3nAudioFeatureExtractor.

Install (on top of the venv used by tools/make_fixtures.py):

    ~/venv/bin/pip install soundfile==0.14.0 soxr==1.1.0 safetensors numpy transformers

Run from the repository root (overwrites tests/fixtures/audio/):

    ~/venv/bin/python tools/make_audio_fixtures.py [--out tests/fixtures/audio]

What the reference is, stage by stage:
  decode    python-soundfile (its bundled libsndfile), float32, channels averaged
  resample  python-soxr, quality "VHQ", float32 in/out (skipped when the rate is already 16 kHz)
  features  transformers.Gemma3nAudioFeatureExtractor() with the checkpoint defaults,
            called on the resampled float32 samples exactly as the processor calls it
Every signal is seeded: rerunning gives the same samples and reference tensors (file bytes can
differ: float WAVs carry a timestamped PEAK chunk, Ogg a random stream serial). Everything is
written to one reference.safetensors (tensor list in tests/fixtures/README.md); safetensors
rather than .npy because the C++ tests already read it with io/safetensors.h.
"""

import argparse
import math
import os
import sys

import numpy as np
import soundfile as sf
import soxr
import transformers
from safetensors.numpy import save_file
from transformers.models.gemma3n import Gemma3nAudioFeatureExtractor

SR = 16000
MAX_SAMPLES = 480_000  # 30 s, the extractor's max_length
FE = Gemma3nAudioFeatureExtractor()


def tone(sr, seconds, parts):
    t = np.arange(int(round(sr * seconds)), dtype=np.float64) / sr
    return sum(a * np.sin(2 * np.pi * f * t) for f, a in parts)


def chirp(sr, seconds, f0, f1, amp):
    t = np.arange(int(round(sr * seconds)), dtype=np.float64) / sr
    k = (f1 - f0) / seconds
    return amp * np.sin(2 * np.pi * (f0 * t + 0.5 * k * t * t))


def speech_like(sr, seconds, seed):
    """Glottal pulse train (jittered, gliding f0) through three moving formant resonators,
    with a syllable-rate envelope: enough spectral structure to look like voiced speech."""
    rng = np.random.default_rng(seed)
    n = int(round(sr * seconds))
    t = np.arange(n) / sr
    f0 = 120 + 25 * np.sin(2 * np.pi * 1.3 * t)
    phase = np.cumsum(f0 / sr)
    src = (np.diff(np.floor(phase), prepend=0.0) > 0).astype(np.float64)
    src += 0.02 * rng.standard_normal(n)
    out = np.zeros(n)
    formants = [(700, 1100, 80), (1200, 1800, 100), (2500, 2900, 150)]
    for lo, hi, bw in formants:
        fc = lo + (hi - lo) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.8 * t))
        r = math.exp(-math.pi * bw / sr)
        y1 = y2 = 0.0
        y = np.empty(n)
        for i in range(n):  # two-pole resonator with a time-varying centre
            c = 2 * r * math.cos(2 * math.pi * fc[i] / sr)
            y0 = src[i] + c * y1 - r * r * y2
            y[i] = y0
            y2, y1 = y1, y0
        out += y / np.max(np.abs(y))
    env = 0.5 - 0.5 * np.cos(2 * np.pi * 3.0 * t)
    return 0.25 * out * env


def long_signal_16k(n):
    """The formula the C++ tests reproduce: int16-quantised so that libm differences in sin
    cannot change a single sample (checked with the stored checksums)."""
    i = np.arange(n, dtype=np.float64)
    x = 8000.0 * np.sin(2 * np.pi * 440.0 * i / SR) + 4000.0 * np.sin(2 * np.pi * (150.0 + 0.25 * i / SR) * i / SR)
    return np.round(x).astype(np.int32)


def load_reference(path):
    data, sr = sf.read(path, dtype="float32", always_2d=True)
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0].copy()
    if sr != SR:
        mono = soxr.resample(mono, sr, SR, quality="VHQ").astype(np.float32)
    return np.ascontiguousarray(mono, dtype=np.float32), sr, data.shape[1]


def features(x):
    out = FE(x, return_tensors="np")
    return out["input_features"][0].astype(np.float32), out["input_features_mask"][0].astype(np.uint8)


# (file name, signal builder, source rate, channels, soundfile format, subtype)
def clip_table():
    tone16 = tone(SR, 0.25, [(440, 0.5), (1000, 0.25)])
    speech = speech_like(SR, 0.5, seed=3)
    stereo = np.stack([tone(44100, 0.4, [(300, 0.4)]),
                       tone(44100, 0.4, [(2500, 0.3)]) + 0.05 * np.random.default_rng(5).standard_normal(17640)], 1)
    return [
        ("tone_16k_u8.wav", tone16, SR, "WAV", "PCM_U8"),
        ("tone_16k_s16.wav", tone16, SR, "WAV", "PCM_16"),
        ("tone_16k_s24.wav", tone16, SR, "WAV", "PCM_24"),
        ("tone_16k_s32.wav", tone16, SR, "WAV", "PCM_32"),
        ("tone_16k_f32.wav", tone16, SR, "WAV", "FLOAT"),
        ("tone_16k_f64.wav", tone16, SR, "WAV", "DOUBLE"),
        ("tone_16k_ext.wav", tone16, SR, "WAVEX", "PCM_16"),  # WAVE_FORMAT_EXTENSIBLE
        ("chirp_22k_s24.wav", chirp(22050, 0.6, 50, 9000, 0.6), 22050, "WAV", "PCM_24"),
        ("noise_48k_f32.wav", 0.3 * np.random.default_rng(7).uniform(-1, 1, 14400), 48000, "WAV", "FLOAT"),
        ("silence_16k.wav", np.zeros(4800), SR, "WAV", "PCM_16"),
        ("short_16k.wav", tone(SR, 400 / SR, [(500, 0.5)]), SR, "WAV", "PCM_16"),  # < one frame: 0 frames
        ("tiny_16k.wav", tone(SR, 520 / SR, [(500, 0.5)]), SR, "WAV", "PCM_16"),  # pads to 640: 1 frame
        ("stereo_44k.wav", stereo, 44100, "WAV", "PCM_16"),
        ("stereo_44k.flac", stereo, 44100, "FLAC", "PCM_16"),
        ("speech_16k.wav", speech, SR, "WAV", "PCM_16"),
        ("speech_16k.flac", speech, SR, "FLAC", "PCM_16"),
        ("speech_16k.mp3", speech, SR, "MP3", "MPEG_LAYER_III"),
        ("speech_16k.ogg", speech, SR, "OGG", "VORBIS"),
    ]


def golden_check():
    """Spec section 3.3: the regression vector recorded against the real checkpoint config."""
    n = 20837
    t = np.arange(n) / 16000.0
    x = (0.4 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * (300 + 900 * t) * t)
         + 0.05 * np.sin(2 * np.pi * 3100 * t)).astype(np.float32)
    f, m = features(x)
    flat = f.reshape(-1)
    got = dict(shape=f.shape, mask=int(m.sum()), mean=float(f.mean()), std=float(f.std()), min=float(f.min()),
               max=float(f.max()), p0=float(flat[0]), p777=float(flat[777]), p4321=float(flat[4321]))
    want = dict(mean=-6.13652, std=3.74858, min=-11.51293, max=4.18331, p0=-2.2887, p777=-2.72516, p4321=-8.1284)
    assert got["shape"] == (128, 128) and got["mask"] == 128, got
    for k, v in want.items():
        assert abs(got[k] - v) <= 2e-4, (k, got[k], v)
    print("golden vector (spec 3.3): ok", got)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/fixtures/audio")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    golden_check()
    ref = {}

    for name, sig, sr, fmt, subtype in clip_table():
        path = os.path.join(args.out, name)
        sf.write(path, np.asarray(sig, dtype=np.float64), sr, format=fmt, subtype=subtype)
        x, got_sr, ch = load_reference(path)
        assert got_sr == sr
        f, m = features(x)
        ref[f"{name}.samples"] = x
        ref[f"{name}.features"] = f
        ref[f"{name}.mask"] = m
        print(f"{name:20s} {os.path.getsize(path):7d} B  {sr} Hz x{ch} -> {len(x)} samples, {f.shape[0]} frames")

    # Batch padding: two clips of different length padded to the longest (multiple of 128).
    a = ref["tone_16k_s16.wav.samples"]
    b = ref["speech_16k.wav.samples"][:2500]
    out = FE([a, b], return_tensors="np")
    ref["batch.features"] = out["input_features"].astype(np.float32)
    ref["batch.mask"] = out["input_features_mask"].astype(np.uint8)
    ref["batch.lengths"] = np.array([len(a), len(b)], dtype=np.int32)

    # 30 s / 31 s, from the integer formula: store checksums, frame ranges and summary stats.
    x31i = long_signal_16k(496_000)
    x31 = (x31i / 32768.0).astype(np.float32)
    f30, m30 = features(x31[:MAX_SAMPLES])
    f31, m31 = features(x31)
    assert f30.shape == (2997, 128) and m30.all() and np.array_equal(f30, f31) and np.array_equal(m30, m31)
    ref["long.checksum"] = np.array([x31i[:MAX_SAMPLES].sum(), np.abs(x31i).sum(), (x31i * (np.arange(496_000) % 7)).sum()],
                                    dtype=np.int64)
    ranges = [(0, 40), (1480, 1520), (2957, 2997)]
    ref["long.frame_ranges"] = np.array(ranges, dtype=np.int32)
    ref["long.features"] = np.concatenate([f30[s:e] for s, e in ranges]).astype(np.float32)
    ref["long.stats"] = np.array([f30.astype(np.float64).mean(), f30.astype(np.float64).std()], dtype=np.float32)
    f1, m1 = features(x31[MAX_SAMPLES:])
    ref["long.clip1_features"] = f1
    ref["long.clip1_mask"] = m1

    # A real 31 s file at 8 kHz (FLAC): decode + resample + split. Only ranges are stored.
    name = "long_31s_8k.flac"
    n8 = 31 * 8000
    i = np.arange(n8) / 8000.0
    sig = 0.05 * np.sin(2 * np.pi * (200 + 20 * i) * i) + 0.03 * np.sin(2 * np.pi * 1500 * i)
    path = os.path.join(args.out, name)
    sf.write(path, sig, 8000, format="FLAC", subtype="PCM_16")
    x, _, _ = load_reference(path)
    assert len(x) == 496_000, len(x)
    sranges = [(0, 4000), (240_000, 244_000), (492_000, 496_000)]
    ref[f"{name}.sample_ranges"] = np.array(sranges, dtype=np.int32)
    ref[f"{name}.samples"] = np.concatenate([x[s:e] for s, e in sranges])
    fa, _ = features(x[:MAX_SAMPLES])
    fb, mb = features(x[MAX_SAMPLES:])
    ref[f"{name}.clip0_features"] = np.concatenate([fa[s:e] for s, e in ranges]).astype(np.float32)
    ref[f"{name}.clip1_features"] = fb
    ref[f"{name}.clip1_mask"] = mb
    print(f"{name:20s} {os.path.getsize(path):7d} B  8000 Hz x1 -> {len(x)} samples")

    meta = {"generator": "tools/make_audio_fixtures.py", "transformers": transformers.__version__,
            "numpy": np.__version__, "soundfile": sf.__version__, "libsndfile": sf.__libsndfile_version__,
            "soxr": soxr.__version__, "resample_quality": "VHQ"}
    save_file(ref, os.path.join(args.out, "reference.safetensors"), metadata=meta)
    os.chmod(os.path.join(args.out, "reference.safetensors"), 0o644)
    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print(f"total {total} bytes in {args.out}")


if __name__ == "__main__":
    sys.exit(main())
