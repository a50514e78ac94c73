#!/usr/bin/env python3
"""Builds the tokenizer test fixtures in tests/tokenizer/ from the reference implementation.

Reference: Hugging Face `tokenizers` 0.23.3 (Rust, what transformers uses) on the real Gemma 3
tokenizer.json in ../shared/tokenizer/, and transformers 5.24.0 for the chat template and the
Gemma 3n processor's placeholder expansion. Run with the project's reference venv:

    /work/venv/bin/python tools/make_tokenizer_fixtures.py            # ids for the committed corpus
    /work/venv/bin/python tools/make_tokenizer_fixtures.py --corpus   # also rebuild the corpus

--corpus gathers text from offline sources on a Debian machine (see tests/tokenizer/README.md for
licences): the glibc locale sources (package `locales`), gettext catalogs of iso-codes, GLib,
GTK 2, gdk-pixbuf, at-spi2 and Linux-PAM, Unicode's Scripts.txt (package `unicode-data`), plus
hand-written hard cases and seeded random strings. What it finds depends on the packages
installed, so the committed corpus.jsonl is the reference; rebuild it only to extend it.

Outputs (all small):
  corpus.jsonl         {"name", "lang", "source", "text"} or {"name", ..., "hex"} (invalid UTF-8)
  expected_ids.jsonl   {"name", "ids"}: Tokenizer.encode(text, add_special_tokens=False); for
                       "hex" records the text is bytes.decode("utf-8", errors="replace")
  decode_cases.jsonl   {"ids", "text", "text_skip_special"}: Tokenizer.decode of id sequences
  gemma3n_cases.json   the Gemma 3n variant (spec §6 ids) and texts encoded with it
  chat_cases.json      conversations -> apply_chat_template text -> processor expansion -> ids
  coverage.txt         languages and scripts in the corpus, and byte counts
  tiny/                a ~160-piece tokenizer in the same format for the tiny fixture models
  tiny_cases.json      texts encoded with it (no byte fallback: fused <unk>)

The Gemma 3n variant is the Gemma 3 JSON with: piece 256000 renamed <end_of_image> ->
<start_of_audio>; added special tokens <end_of_image>=262144, <image_soft_token>=262145,
<end_of_audio>=262272, <audio_soft_token>=262273 (Gemma 3's <image_soft_token>=262144 removed).
HF `tokenizers` renumbers added tokens to close gaps, so the ids between are filled with
placeholder tokens named <g3n_hard_vision_N> / <g3n_hard_audio_N> (their real names are not
known here and no test text uses them).
"""
import argparse
import copy
import glob
import json
import os
import random
import re
import sys
import unicodedata

import numpy as np
import transformers
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEMMA3N_SPECIALS = [  # spec gemma3n-text.md §6
    (255999, "<start_of_image>"),
    (256000, "<start_of_audio>"),
    (262144, "<end_of_image>"),
    (262145, "<image_soft_token>"),
    (262272, "<end_of_audio>"),
    (262273, "<audio_soft_token>"),
]
MO_DOMAINS = ["glib20", "gtk20", "gdk-pixbuf", "at-spi2-core", "Linux-PAM"]  # LGPL / BSD catalogs
PER_LANG_BUDGET = 1400  # bytes of catalog sentences per locale


# ----------------------------------------------------------------------------- corpus sources

def parse_glibc_locale(path):
    """Returns (fields, identification) with native strings from a glibc locale source file."""
    raw = open(path, encoding="utf-8", errors="replace").read()
    esc, com = "\\", "#"
    m = re.search(r"^escape_char\s+(\S)", raw, re.M)
    if m:
        esc = m.group(1)
    m = re.search(r"^comment_char\s+(\S)", raw, re.M)
    if m:
        com = m.group(1)
    lines, buf = [], ""
    for line in raw.split("\n"):
        if line.lstrip().startswith(com):
            continue
        s = line.rstrip()
        if s.endswith(esc) and not s.endswith(esc + esc):
            buf += s[:-1]
            continue
        lines.append(buf + s)
        buf = ""

    def decode(q):
        out, i = [], 0
        while i < len(q):
            if q.startswith("<U", i) and q.find(">", i) > i:
                j = q.find(">", i)
                try:
                    out.append(chr(int(q[i + 2:j], 16)))
                    i = j + 1
                    continue
                except ValueError:
                    pass
            if q[i] == esc and i + 1 < len(q):
                out.append(q[i + 1])
                i += 2
                continue
            out.append(q[i])
            i += 1
        return "".join(out)

    fields, cat, copied = {}, None, False
    for line in lines:
        t = line.strip()
        if re.match(r"^LC_[A-Z]+$", t):
            cat, copied = t, False
            continue
        if t.startswith("END LC_"):
            cat = None
            continue
        if cat is None or not t:
            continue
        if t.startswith("copy "):
            copied = True
            continue
        if copied:
            continue
        m = re.match(r"^(\w+)\s+(.*)$", t)
        if not m:
            continue
        vals = [decode(v) for v in re.findall(r'"((?:[^"]|' + re.escape(esc) + r'")*)"', m.group(2))]
        if vals:
            fields[(cat, m.group(1))] = vals
    return fields


def glibc_records():
    recs = []
    for path in sorted(glob.glob("/usr/share/i18n/locales/*")):
        name = os.path.basename(path)
        if not re.match(r"^[a-z]{2,3}_[A-Z]{2}", name):
            continue
        f = parse_glibc_locale(path)
        lang = name.split("_")[0]
        parts = []
        ln, cn = f.get(("LC_ADDRESS", "lang_name")), f.get(("LC_ADDRESS", "country_name"))
        if ln and cn:
            parts.append(f"{ln[0]} ({cn[0]})")
        for key in ("mon", "alt_mon", "day"):
            v = f.get(("LC_TIME", key))
            if v:
                parts.append(" ".join(v))
        yn = [f.get(("LC_MESSAGES", k)) for k in ("yesstr", "nostr")]
        if all(yn):
            parts.append(f"{yn[0][0]} / {yn[1][0]}")
        text = "\n".join(p for p in parts if p.strip())
        if len(text.encode()) < 40:
            continue
        recs.append({"name": f"glibc/{name}", "lang": lang, "source": "glibc locale source " + name, "text": text})
    # Many locales repeat a language with the same strings: keep distinct texts, two per language.
    out, seen, per = [], set(), {}
    for r in recs:
        if r["text"] in seen or per.get(r["lang"], 0) >= 2:
            continue
        seen.add(r["text"])
        per[r["lang"]] = per.get(r["lang"], 0) + 1
        out.append(r)
    return out


def read_mo(path):
    """msgid -> msgstr of a gettext .mo file (plural forms: the first of each); UTF-8 only."""
    import struct
    data = open(path, "rb").read()
    order = "<" if data[:4] == b"\xde\x12\x04\x95" else ">"
    n, orig, trans = struct.unpack(order + "III", data[8:20])
    out = {}
    for i in range(n):
        ol, oo = struct.unpack(order + "II", data[orig + 8 * i:orig + 8 * i + 8])
        tl, to = struct.unpack(order + "II", data[trans + 8 * i:trans + 8 * i + 8])
        try:
            k = data[oo:oo + ol].split(b"\0")[0].decode("utf-8")
            v = data[to:to + tl].split(b"\0")[0].decode("utf-8")
        except UnicodeDecodeError:
            return {}
        out[k] = v
    return out


def gettext_records():
    recs = []
    for d in sorted(glob.glob("/usr/share/locale/*/LC_MESSAGES")):
        loc = d.split("/")[-2]
        lang = re.split(r"[_@.]", loc)[0]
        if not re.match(r"^[a-z]{2,3}$", lang):
            continue
        lines, size = [], 0
        for dom in MO_DOMAINS:
            p = os.path.join(d, dom + ".mo")
            if not os.path.exists(p):
                continue
            cat = read_mo(p)
            for k in sorted(cat):
                v = cat[k]
                if not k or v == k or not (15 <= len(v) <= 160):
                    continue
                if size + len(v.encode()) > PER_LANG_BUDGET:
                    break
                lines.append(v)
                size += len(v.encode()) + 1
        names = []
        for dom in ("iso_639", "iso_3166"):
            p = os.path.join(d, dom + ".mo")
            if os.path.exists(p):
                names += [v for k, v in sorted(read_mo(p).items()) if k and v and v != k][:25]
        if names:
            lines.append(", ".join(names))
        text = "\n".join(lines)
        if len(text.encode()) < 80:
            continue
        recs.append({"name": f"gettext/{loc}", "lang": lang,
                     "source": "gettext catalogs " + "+".join(MO_DOMAINS + ["iso-codes"]) + " for " + loc, "text": text})
    return recs


def load_scripts():
    ranges = []
    for line in open("/usr/share/unicode/Scripts.txt", encoding="utf-8"):
        line = line.split("#")[0].strip()
        if not line:
            continue
        cps, script = [x.strip() for x in line.split(";")]
        a, _, b = cps.partition("..")
        ranges.append((int(a, 16), int(b or a, 16), script))
    ranges.sort()
    return ranges


def script_of(cp, ranges, _cache={}):
    if cp in _cache:
        return _cache[cp]
    lo, hi, s = 0, len(ranges) - 1, "Unknown"
    while lo <= hi:
        mid = (lo + hi) // 2
        a, b, name = ranges[mid]
        if cp < a:
            hi = mid - 1
        elif cp > b:
            lo = mid + 1
        else:
            s = name
            break
    _cache[cp] = s
    return s


def script_sample_records(ranges, covered):
    """A line of letters for every script the natural text does not cover well."""
    by_script = {}
    for a, b, s in ranges:
        for cp in range(a, b + 1):
            if unicodedata.category(chr(cp)).startswith("L"):
                by_script.setdefault(s, []).append(cp)
    recs = []
    for s in sorted(by_script):
        cps = by_script[s]
        if s in ("Common", "Inherited") or covered.get(s, 0) >= 200 or len(cps) < 3:
            continue
        step = max(1, len(cps) // 60)
        letters = [chr(c) for c in cps[::step][:60]]
        words = ["".join(letters[i:i + 5]) for i in range(0, len(letters), 5)]
        recs.append({"name": f"script/{s}", "lang": "", "source": "Unicode Scripts.txt letters of " + s,
                     "text": " ".join(words)})
    return recs


# ----------------------------------------------------------------------------- hard cases

def hard_cases():
    zwj = "\u200d"
    skin = ["\U0001F3FB", "\U0001F3FC", "\U0001F3FD", "\U0001F3FE", "\U0001F3FF"]
    c = {
        "emoji/zwj_families": "👨‍👩‍👧‍👦 👩‍👩‍👦 👨‍👨‍👧‍👧 🧑‍🤝‍🧑 👩‍❤️‍💋‍👨 🏳️‍🌈 🏴‍☠️ 🐕‍🦺 😶‍🌫️",
        "emoji/skin_tones": " ".join("👋" + s + " 👩" + s + zwj + "💻 🧑" + s + zwj + "🤝" + zwj + "🧑🏻" for s in skin),
        "emoji/flags_keycaps": "🇺🇸🇯🇵🇩🇪🇧🇷🇮🇳 🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴󠁧󠁢󠁷󠁬󠁳󠁿 1️⃣ #️⃣ *️⃣ ©️ ®️ ™️ ❤️ ❤︎ ☺️",
        "emoji/in_text": "Great job!🎉🎉 Let's go 🚀🚀🚀... I ❤️ NY 😂😂😂🤣 (╯°□°）╯︵ ┻━┻ ¯\\_(ツ)_/¯",
        "combining/stacked": "Z̵̡̢̛̗̘̙̜̝̞̟̠̀́̂̃̄̅̆̇̈̉̊̋̌̍̎̏̐̑̒̓̔̕̚ͅa̸͇̐l̷̙̈g̶̰̈́o̵͍͝ ̴̥͒t̵̰̆e̵̘̓x̶̝̂t̵͚̚",
        "combining/nfd_vs_nfc": "Tiếng Việt " + unicodedata.normalize("NFD", "Tiếng Việt có dấu: ắ ằ ẳ ẵ ặ") + " café " +
                                 unicodedata.normalize("NFD", "café naïve résumé Ångström"),
        "combining/lone_marks": "\u0301\u0302 start with marks; \u20DD circle \u0300 a\u0300\u0300\u0300 \u3099\u309A",
        "combining/hebrew_niqqud": "בְּרֵאשִׁית בָּרָא אֱלֹהִים אֵת הַשָּׁמַיִם וְאֵת הָאָרֶץ׃ ֑֖",
        "combining/arabic_harakat": "بِسْمِ ٱللَّٰهِ ٱلرَّحْمَٰنِ ٱلرَّحِيمِ ـــــ ﷽ ﻻ ﺍﻟﺴﻼﻡ",
        "rtl/mixed_bidi": "\u202bשלום World 123 مرحبا\u202c \u200fabc\u200e \u2067עברית\u2069 and ١٢٣٤٥٦٧٨٩٠ ۱۲۳ ‏(test)‏ \u202eabc\u202c",
        "rtl/arabic": "اللغة العربية هي أكثر اللغات السامية تحدثاً، وإحدى أكثر اللغات انتشاراً في العالم.",
        "rtl/persian_urdu": "زبان فارسی یکی از زبان‌های هندواروپایی است. اردو ہندوستان اور پاکستان میں بولی جاتی ہے۔",
        "cjk/chinese": "汉字是世界上最古老的文字之一。漢字是世界上最古老的文字之一。「引號」『雙引號』，标点：；！？",
        "cjk/japanese": "日本語の文章は、漢字・ひらがな・カタカナを組み合わせて書きます。ｶﾀｶﾅ ﾊﾝｶｸ。ヴァイオリン、コーヒー〜",
        "cjk/korean": "한국어는 한글로 씁니다. 조합형 자모: \u1100\u1161\u11A8 \u1112\u1161\u11AB 호환 자모: ㄱㄴㄷ ㅏㅑ",
        "cjk/ext_b_fullwidth": "𠀀𠀁𪚥𩸽𡈽 ＡＢＣ１２３！　全角スペース　ｆｕｌｌｗｉｄｔｈ",
        "indic/devanagari": "हिन्दी भारत की राजभाषा है। क़ ख़ ग़ ज़ ड़ ढ़ फ़ क्‍ष क्‌ष श्री ॐ १२३",
        "indic/bengali_tamil": "বাংলা ভাষা র‍্যাব। தமிழ் மொழி மிகவும் பழமையானது. ஸ்ரீ",
        "indic/telugu_kannada_malayalam": "తెలుగు భాష ಕನ್ನಡ ಭಾಷೆ മലയാളം ഭാഷ ൽ ൾ ൻ ർ ൺ ൿ",
        "indic/gujarati_gurmukhi_odia_sinhala": "ગુજરાતી ਪੰਜਾਬੀ ଓଡ଼ିଆ සිංහල ශ්‍රී ලංකා",
        "sea/no_spaces": "ภาษาไทยเขียนติดกันโดยไม่มีช่องว่างระหว่างคำ ພາສາລາວ ភាសាខ្មែរ မြန်မာဘာသာ བོད་སྐད་",
        "mixed/scripts": "English русский Ελληνικά עברית العربية हिन्दी 中文 日本語 한국어 ქართული Հայերեն ትግርኛ ᏣᎳᎩ ᐃᓄᒃᑎᑐᑦ",
        "mixed/code_switch": "Meeting at 3pm 明天 with José and Влад — “smart quotes” ‘single’ «guillemets» „Anführung“",
        "ws/spaces_runs": "".join("a" + " " * n for n in range(1, 70)) + "end",
        "ws/long_space_run": "x" + " " * 1000 + "y",
        "ws/only_spaces": " " * 37,
        "ws/tabs": "".join("\t" * n + "b" for n in range(1, 40)),
        "ws/newlines": "".join("c" + "\n" * n for n in range(1, 70)),
        "ws/crlf_mixed": "line1\r\nline2\rline3\n\r\n \t \n\t\t  \n  \t\r\n\u000b\u000c end",
        "ws/unicode_spaces": "a\u00a0b\u2000c\u2001d\u2002e\u2003f\u2009g\u200ah\u202fi\u205fj\u3000k\u200bl\u2028m\u2029n\ufeffo\u00adp\u180eq",
        "ws/leading_trailing": "   leading spaces and trailing   ",
        "ws/space_marks_literal": "▁ ▁▁ literal ▁▁▁▁ lower-eighth blocks ▁a▁b ",
        "code/python": 'def f(x: int) -> list[int]:\n    """Doc."""\n    return [i ** 2 for i in range(x) if i % 2 == 0]  # squares\n\n\nif __name__ == "__main__":\n\tprint(f(10), {"a": 1, \'b\': [1.5e-3, None]})\n',
        "code/cpp": "#include <vector>\ntemplate <class T>\nstd::vector<T> g(const T& x) {\n  std::vector<T> v{x, x};\n  for (auto& e : v) e <<= 2;  // shift\n  return v;\n}\nint main(){return g(1)[0]>>1;}\n",
        "code/html": "<html><body><table><tr><th>A</th><td>1</td></tr></table><div class=\"x\"><b>bold</b> <i>it</i> <code>c</code> <a href='#'>link</a></div></body></html>",
        "code/json_sql_shell": '{"key": [1, 2, {"nested": null}], "emoji": "\\ud83d\\ude00"}\nSELECT * FROM t WHERE a >= 10 AND b <> \'x\';\n$ ls -la | grep -E "^d" && echo "$HOME" > /dev/null 2>&1',
        "code/regex_latex": r"^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)@\w+\.\w{2,}$ \frac{\partial L}{\partial \theta} = \sum_{i=1}^{N} \alpha_i^2",
        "code/markdown": "# Title\n\n- item **bold** _it_ `code`\n1. one\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```py\nx = 1\n```\n",
        "urls": "https://example.com/path/to/page?query=1&lang=en#section http://xn--fsq.com/ ftp://ftp.example.org/pub/file.tar.gz mailto:user@example.com https://例子.测试/路径 [::1]:8080 192.168.0.1",
        "numbers": "0 1 12 123 1234 12345 123456 1234567890 3.14159265358979 1e-10 -42 +7 1,000,000 1.000.000,50 ½ ¾ ² ³ ① Ⅻ ٣ ৩ ໓ 〇",
        "added/special_literals": "<start_of_turn>user\nHi<end_of_turn>\n<bos><eos><pad><unk><mask>[multimodal]<unused0><unused6241><start_of_image><end_of_image><image_soft_token>",
        "added/near_misses": "<start_of_turn <end_of_turn> > <<start_of_turn>> <0x41> <0xZZ> <unused> <unused99999> <bo s> < table> <table <table>> </table </code>",
        "added/html_tags_in_code": "<h1>Title</h1><strong>x</strong><em>y</em><sub>2</sub><sup>3</sup><s>del</s><u>u</u><blockquote>q</blockquote><img><bbox>",
        "controls": "nul:\x00 soh:\x01 bel:\x07 bs:\x08 esc:\x1b[31m del:\x7f c1:\x80\x85\x9f ctrl end",
        "nonchars_private": "\ufffe \uffff \ufdd0 \ue000 \uf8ff \U000f0000 \U0010fffd \U0001fffe replacement:\ufffd",
        "astral": "𝐀𝐁𝐂 𝕏𝕐ℤ 𐀀𐀁 𐌰𐌱𐌲 𒀀𒀁 𓀀𓁐 𝄞𝄢 🀄🃏 𖹀 𞤀𞤁 𑀓𑀸",
        "long/word_a": "a" * 5000,
        "long/word_ab": "ab" * 1500,
        "long/no_space_latin": "Supercalifragilisticexpialidocious" * 40,
        "long/digits": "1234567890" * 200,
        "long/punct_lines": "=" * 300 + "\n" + "-" * 300 + "\n" + "." * 300 + "\n" + "*" * 100 + "_" * 100,
        "long/base64": "TWFuIGlzIGRpc3Rpbmd1aXNoZWQsIG5vdCBvbmx5IGJ5IGhpcyByZWFzb24sIGJ1dCBieSB0aGlz" * 20,
        "ascii/printable": "".join(chr(i) for i in range(32, 127)),
        "ascii/all_bytes_as_chars": "".join(chr(i) for i in range(0, 128)),
        "latin1/all": "".join(chr(i) for i in range(0xA0, 0x180)),
        "empty": "",
        "single/space": " ",
        "single/newline": "\n",
        "single/a": "a",
    }
    recs = [{"name": "hard/" + k, "lang": "", "source": "hand-written hard case", "text": v} for k, v in c.items()]
    invalid = {
        "truncated_2": b"ab\xc3",
        "truncated_3": b"\xe4\xbd\xa0\xe5\xa5",
        "truncated_4": b"emoji \xf0\x9f\x98 end",
        "overlong": b"\xc0\x80 \xc1\xbf \xe0\x80\x80 \xf0\x80\x80\x80 \xe0\x9f\xbf",
        "surrogates": b"\xed\xa0\x80\xed\xb0\x80 \xed\xbf\xbf x",
        "out_of_range": b"\xf4\x90\x80\x80 \xf5\x80 \xf8\x88\x80\x80\x80 \xfc\x84\x80\x80\x80\x80 \xfe\xff",
        "lone_continuation": b"\x80\x81\xbf a\xbfb \x80",
        "mixed_valid": "héllo wörld ".encode() + b"\xff\xfe" + "日本".encode() + b"\xe6\x97" + " ok".encode(),
        "latin1_bytes": "Café Ñandú".encode("latin-1"),
        "cesu8": b"\xed\xa0\xbd\xed\xb8\x80",
        "at_end_space": b"text \xe2\x96",
        "only_invalid": b"\xff",
    }
    rng = random.Random(20240611)
    for i in range(8):
        invalid[f"random_{i}"] = bytes(rng.randrange(256) for _ in range(rng.randrange(20, 300)))
    for k, v in invalid.items():
        recs.append({"name": "invalid/" + k, "lang": "", "source": "hand-written invalid UTF-8", "hex": v.hex()})
    return recs


def random_records(natural):
    """Seeded strings that mix everything: words from the corpus, odd whitespace, added tokens."""
    rng = random.Random(1234)
    words = sorted({w for r in natural for w in r["text"].split()})
    pieces = ["\n", "\n\n", "\t", "  ", "   ", " \n ", "<start_of_turn>", "<end_of_turn>", "<b>", "</td>",
              "▁", "\u200d", "\u0301", "\u3000", "\u00a0", "😀", "👍🏽", "\r\n", "", "'", '"', "...", "—"]
    blocks = [(0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x6FF), (0x900, 0x97F),
              (0xE00, 0xE7F), (0x1100, 0x11FF), (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
              (0x1F300, 0x1FAFF), (0x300, 0x36F), (0x2000, 0x206F), (0x10000, 0x1007F), (0x20000, 0x2A6DF)]
    recs = []
    for i in range(40):
        out = []
        for _ in range(rng.randrange(5, 60)):
            x = rng.random()
            if x < 0.5 and words:
                out.append(rng.choice(words))
            elif x < 0.75:
                out.append(rng.choice(pieces))
            else:
                a, b = rng.choice(blocks)
                out.append("".join(chr(rng.randint(a, b)) for _ in range(rng.randrange(1, 8))))
            out.append(rng.choice([" ", " ", " ", "", "  ", "\n", "\t"]))
        text = "".join(out)
        text = "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)
        recs.append({"name": f"random/{i}", "lang": "", "source": "seeded random mix", "text": text})
    return recs


def build_corpus(out_dir):
    natural = glibc_records() + gettext_records()
    ranges = load_scripts()
    covered = {}
    for r in natural:
        for ch in r["text"]:
            s = script_of(ord(ch), ranges)
            covered[s] = covered.get(s, 0) + 1
    recs = natural + script_sample_records(ranges, covered) + hard_cases()
    recs += random_records(natural)
    with open(os.path.join(out_dir, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return recs


def write_coverage(recs, out_dir):
    ranges = load_scripts()
    langs, scripts, nbytes = {}, {}, 0
    for r in recs:
        text = r["text"] if "text" in r else bytes.fromhex(r["hex"]).decode("utf-8", errors="replace")
        nbytes += len(text.encode()) if "text" in r else len(r["hex"]) // 2
        if r["lang"]:
            langs[r["lang"]] = langs.get(r["lang"], 0) + len(text.encode())
        for ch in text:
            s = script_of(ord(ch), ranges)
            scripts[s] = scripts.get(s, 0) + 1
    names = {}
    for fn, key in (("iso_639-3.json", "639-3"), ("iso_639-2.json", "639-2")):
        p = "/usr/share/iso-codes/json/" + fn
        if os.path.exists(p):
            for e in json.load(open(p))[key]:
                for code in (e.get("alpha_2"), e.get("alpha_3")):
                    if code and code not in names:
                        names[code] = e["name"]
    counted = {k: v for k, v in langs.items() if v >= 150}
    real_scripts = {k: v for k, v in scripts.items() if k not in ("Common", "Inherited", "Unknown")}
    with open(os.path.join(out_dir, "coverage.txt"), "w", encoding="utf-8") as f:
        f.write(f"records {len(recs)}, text bytes {nbytes}\n")
        f.write(f"languages with >= 150 bytes of text: {len(counted)}\n")
        f.write(f"scripts (Unicode Scripts.txt, excluding Common/Inherited): {len(real_scripts)}\n\n")
        for k in sorted(counted):
            f.write(f"lang {k:4s} {counted[k]:6d} B  {names.get(k, '?')}\n")
        f.write("\n")
        for k in sorted(real_scripts, key=lambda k: -real_scripts[k]):
            f.write(f"script {k:24s} {real_scripts[k]:7d} chars\n")
    return len(counted), len(real_scripts), nbytes


# ----------------------------------------------------------------------------- reference outputs

def record_text(r):
    return r["text"] if "text" in r else bytes.fromhex(r["hex"]).decode("utf-8", errors="replace")


def write_expected(tok, recs, out_dir):
    with open(os.path.join(out_dir, "expected_ids.jsonl"), "w", encoding="utf-8") as f:
        for r in recs:
            ids = tok.encode(record_text(r), add_special_tokens=False).ids
            f.write(json.dumps({"name": r["name"], "ids": ids}, separators=(",", ":")) + "\n")


def check_transformers_agrees(tok_dir, tok, recs):
    """transformers' GemmaTokenizer must give the same ids as `tokenizers` (it wraps it)."""
    ht = transformers.AutoTokenizer.from_pretrained(tok_dir)
    bad = 0
    for r in recs:
        t = record_text(r)
        if ht(t, add_special_tokens=False)["input_ids"] != tok.encode(t, add_special_tokens=False).ids:
            bad += 1
    print(f"transformers vs tokenizers: {bad} of {len(recs)} records differ", file=sys.stderr)
    if ht("hi")["input_ids"][0] != tok.token_to_id("<bos>"):
        raise SystemExit("transformers does not prepend <bos>")


def write_decode_cases(tok, out_dir):
    rng = random.Random(99)
    vocab = tok.get_vocab_size()
    byte_ids = [tok.token_to_id(f"<0x{b:02X}>") for b in range(256)]
    specials = [tok.token_to_id(t) for t in ("<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>", "<pad>")]
    text_ids = tok.encode("Hello ▁ world, 你好 😀 \n\t").ids
    cases = [[], [2], [byte_ids[0xE4], byte_ids[0xBD], byte_ids[0xA0]], [byte_ids[0xE4], byte_ids[0xBD]],
             [byte_ids[0xE4], 105, byte_ids[0xBD], byte_ids[0xA0]], [byte_ids[0xFF], byte_ids[0x41]],
             [9259, byte_ids[0xF0], byte_ids[0x9F], byte_ids[0x98], byte_ids[0x80], 12392],
             [262144, 255999, 256000, 106, 1]]
    for i in range(60):
        seq = []
        for _ in range(rng.randrange(1, 50)):
            x = rng.random()
            if x < 0.35:
                seq.append(rng.randrange(vocab))
            elif x < 0.7:
                # a byte run: valid UTF-8 of a random character, or random bytes
                if rng.random() < 0.6:
                    ch = chr(rng.choice([rng.randint(0x80, 0x7FF), rng.randint(0x800, 0xD7FF),
                                         rng.randint(0x10000, 0x10FFFF)]))
                    seq += [byte_ids[b] for b in ch.encode()]
                else:
                    seq += [byte_ids[rng.randrange(256)] for _ in range(rng.randrange(1, 5))]
            elif x < 0.85:
                seq.append(rng.choice(specials))
            else:
                seq.append(rng.choice(text_ids))
        cases.append(seq)
    with open(os.path.join(out_dir, "decode_cases.jsonl"), "w", encoding="utf-8") as f:
        for ids in cases:
            f.write(json.dumps({"ids": ids, "text": tok.decode(ids, skip_special_tokens=False),
                                "text_skip_special": tok.decode(ids, skip_special_tokens=True)},
                               ensure_ascii=False, separators=(",", ":")) + "\n")


def gemma3n_json(gemma3_json):
    d = copy.deepcopy(gemma3_json)
    vocab = d["model"]["vocab"]
    for tid, content in GEMMA3N_SPECIALS:
        if tid < len(vocab):
            old = [k for k, v in vocab.items() if v == tid]
            assert len(old) == 1, (tid, old)
            if old[0] != content:
                del vocab[old[0]]
                vocab[content] = tid
    names = dict(GEMMA3N_SPECIALS)
    added = [t for t in d["added_tokens"] if t["id"] not in names and t["content"] not in names.values()]
    top = max(names)
    for tid in range(len(vocab), top + 1):
        if tid not in names:  # fillers: HF renumbers added tokens to close gaps
            names[tid] = f"<g3n_hard_vision_{tid - 262144}>" if tid < 262272 else f"<g3n_hard_audio_{tid - 262272}>"
    for tid, content in sorted(names.items()):
        added.append({"id": tid, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
    added.sort(key=lambda t: t["id"])
    d["added_tokens"] = added
    return d


def make_processor(tok3n, template):
    ht = transformers.GemmaTokenizerFast(
        tokenizer_object=tok3n, add_bos_token=True, chat_template=template,
        extra_special_tokens={"image_token": "<image_soft_token>", "boi_token": "<start_of_image>",
                              "eoi_token": "<end_of_image>", "audio_token": "<audio_soft_token>",
                              "boa_token": "<start_of_audio>", "eoa_token": "<end_of_audio>"})

    class NoPixels(transformers.ImageProcessingMixin):
        """Stands in for SiglipImageProcessor (needs PIL/torchvision): the text path does not
        look at pixels, only at the number of images."""
        model_input_names = ["pixel_values"]

        def __init__(self):
            pass

        def __call__(self, images, **kwargs):
            return transformers.BatchFeature({})

        def fetch_images(self, images):
            return images

    return transformers.Gemma3nProcessor(feature_extractor=transformers.Gemma3nAudioFeatureExtractor(),
                                          image_processor=NoPixels(), tokenizer=ht, chat_template=template)


def write_gemma3n_cases(tok3n, proc, out_dir):
    for tid, content in GEMMA3N_SPECIALS:
        assert tok3n.token_to_id(content) == tid, (content, tok3n.token_to_id(content), tid)
    texts = ["<start_of_image><image_soft_token><end_of_image>", "<start_of_audio><audio_soft_token><end_of_audio>",
             "a<end_of_image>b<image_soft_token>c <start_of_audio> d", proc.full_image_sequence,
             proc.full_audio_sequence, "user\n" + proc.full_image_sequence + "Describe this.",
             "Gemma 3 names: <end_of_image> is 262144 here, <start_of_image> stays 255999.",
             "<start_of_turn>user\n<image_soft_token>\n\n\n<audio_soft_token><end_of_turn>\n"]
    cases = [{"text": t, "ids": tok3n.encode(t, add_special_tokens=False).ids} for t in texts]
    with open(os.path.join(out_dir, "gemma3n_cases.json"), "w", encoding="utf-8") as f:
        json.dump({"special_tokens": [{"id": i, "content": c} for i, c in GEMMA3N_SPECIALS],
                   "image_sequence": proc.full_image_sequence, "audio_sequence": proc.full_audio_sequence,
                   "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")


def tiny_tokenizer_json():
    """A tokenizer small enough for the tiny fixture models (vocab >= 320) so that `gemma3n chat`
    and `tokenize` can run on them: the Gemma pipeline and special-token ids (0-3, 105, 106,
    "\n" = 107), ASCII characters, a few words as merges, and no byte fallback, so any other
    character becomes <unk> (consecutive ones fused, as HF does with fuse_unk)."""
    vocab = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "<start_of_turn>": 105, "<end_of_turn>": 106,
             "\n": 107, "\n\n": 108}
    free = (i for i in range(4, 1000) if i not in vocab.values())
    for ch in ["\u2581"] + [chr(c) for c in range(0x21, 0x7F)]:
        vocab[ch] = next(free)
    merges = []
    for word in ["user", "model", "hello", "\u2581the", "\u2581is", "\u2581and", "\u2581you", "\u2581what",
                 "\u2581hello", "\u2581a", "\u2581\u2581"]:
        for k in range(2, len(word) + 1):
            left, right = word[:k - 1], word[k - 1]
            if [left, right] not in merges:
                merges.append([left, right])
                vocab.setdefault(word[:k], next(free))
    added = [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": c not in ("\n", "\n\n")} for c, i in sorted(vocab.items(), key=lambda kv: kv[1])
             if c.startswith("<") or c.startswith("\n")]
    d = json.load(open(os.path.join(ROOT, "..", "shared", "tokenizer", "tokenizer.json"), encoding="utf-8"))
    d["model"]["vocab"], d["model"]["merges"], d["model"]["byte_fallback"] = vocab, merges, False
    d["model"]["fuse_unk"] = True
    d["added_tokens"] = added
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<bos>", "eos_token": "<end_of_turn>",
              "unk_token": "<unk>", "pad_token": "<pad>"}
    return d, config


def write_tiny_tokenizer(out_dir):
    d, config = tiny_tokenizer_json()
    tiny = os.path.join(out_dir, "tiny")
    os.makedirs(tiny, exist_ok=True)
    with open(os.path.join(tiny, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(d, f, ensure_ascii=False, indent=1)
    with open(os.path.join(tiny, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1)
    tok = Tokenizer.from_file(os.path.join(tiny, "tokenizer.json"))
    texts = ["hello  world", "user\nWhat is the model?", "h\u00e9llo w\u00f6rld \u4f60\u597d!", "\u2581\u2581 and you",
             "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n", "\u00e9\u00e9 \u00e9", ""]
    cases = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in texts]
    with open(os.path.join(out_dir, "tiny_cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
        f.write("\n")


def chat_conversations():
    img, aud = {"type": "image"}, {"type": "audio"}

    def t(s):
        return {"type": "text", "text": s}

    return [
        ("single_user", [{"role": "user", "content": "Hi"}], True),
        ("system_folded", [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Hi"}], True),
        ("multi_turn_trim", [{"role": "system", "content": "  Be terse.  "},
                             {"role": "user", "content": "  What is 2+2?\n"},
                             {"role": "assistant", "content": "\n4 \t"},
                             {"role": "user", "content": "And 3+3?"}], True),
        ("no_generation_prompt", [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi there!"}],
         False),
        ("image_then_text", [{"role": "user", "content": [img, t("  Describe this image.  ")]}], True),
        ("mixed_media", [{"role": "system", "content": [t("You see and hear."), t("ignored second item")]},
                         {"role": "user", "content": [t("Compare"), img, t(" with "), img, t("and"), aud]}], True),
        ("audio_only", [{"role": "user", "content": [aud]}], True),
        ("media_in_later_turn", [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
                                 {"role": "user", "content": [aud, t("Transcribe.")]}], True),
        ("unicode_trim", [{"role": "user", "content": "\u00a0\u3000 Привет, 世界! 👋\u2003\n"}], True),
        ("empty_and_space", [{"role": "user", "content": ""}, {"role": "assistant", "content": "   "},
                             {"role": "user", "content": "ok"}], True),
        ("other_role_at_odd_turn", [{"role": "user", "content": "run it"}, {"role": "tool", "content": "done"}], True),
        ("system_only", [{"role": "system", "content": "Lonely system."}], True),
        ("newlines_around_media", [{"role": "user", "content": [t("Look:\n"), img, t("\nthen answer")]}], True),
        ("error_two_users", [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], True),
        ("error_assistant_first", [{"role": "assistant", "content": "a"}], True),
        ("error_system_then_assistant", [{"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}],
         True),
    ]


def write_chat_cases(proc, tok3n, template, out_dir):
    out = []
    for name, msgs, gen in chat_conversations():
        case = {"name": name, "messages": msgs, "add_generation_prompt": gen}
        try:
            rendered = proc.apply_chat_template(msgs, chat_template=template, add_generation_prompt=gen,
                                                tokenize=False)
        except Exception as e:  # jinja's raise_exception -> TemplateError
            case["error"] = str(e)
            out.append(case)
            continue
        n_img, n_aud = rendered.count("<image_soft_token>"), rendered.count("<audio_soft_token>")
        kwargs = {"add_special_tokens": False}  # apply_chat_template does so when the text starts with <bos>
        if n_img:
            kwargs["images"] = [np.zeros((3, 8, 8), dtype=np.float32) for _ in range(n_img)]
        if n_aud:
            kwargs["audio"] = [np.zeros(16000, dtype=np.float32) for _ in range(n_aud)]
        ids = proc(text=rendered, **kwargs)["input_ids"][0]
        expanded = rendered.replace("<image_soft_token>", proc.full_image_sequence).replace(
            "<audio_soft_token>", proc.full_audio_sequence)
        assert tok3n.encode(expanded, add_special_tokens=False).ids == list(ids), name
        case.update({"rendered": rendered, "expanded": expanded, "ids": list(ids)})
        out.append(case)
    with open(os.path.join(out_dir, "chat_cases.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "..", "shared", "tokenizer"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "tokenizer"))
    ap.add_argument("--corpus", action="store_true", help="rebuild corpus.jsonl from offline sources")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tok_json = os.path.join(args.tokenizer, "tokenizer.json")
    tok = Tokenizer.from_file(tok_json)

    if args.corpus:
        recs = build_corpus(args.out)
    else:
        recs = [json.loads(line) for line in open(os.path.join(args.out, "corpus.jsonl"), encoding="utf-8")]
    n_lang, n_script, nbytes = write_coverage(recs, args.out)
    print(f"corpus: {len(recs)} records, {nbytes} bytes, {n_lang} languages, {n_script} scripts", file=sys.stderr)
    write_expected(tok, recs, args.out)
    check_transformers_agrees(args.tokenizer, tok, recs)
    write_decode_cases(tok, args.out)

    template = open(os.path.join(args.out, "gemma3n_chat_template.jinja"), encoding="utf-8").read()
    tok3n = Tokenizer.from_str(json.dumps(gemma3n_json(json.load(open(tok_json, encoding="utf-8")))))
    proc = make_processor(tok3n, template)
    write_gemma3n_cases(tok3n, proc, args.out)
    write_chat_cases(proc, tok3n, template, args.out)
    write_tiny_tokenizer(args.out)


if __name__ == "__main__":
    main()
