#!/usr/bin/env python3
"""SentencePiece itself as the oracle of the engine's tokenizer (Debian: python3-sentencepiece).

  sentencepiece_ids.py encode MODEL TEXTS.json     prints the ids of each text of a JSON list, without BOS
  sentencepiece_ids.py fixtures OUT_DIR            trains the oracle models into OUT_DIR and writes OUT_DIR/cases.json

The oracle models are trained the way Mistral's tokenizer.model was: BPE, byte fallback, digits split,
whitespace-only pieces allowed (so runs of spaces are pieces, as in indented code), identity normalization, every
space kept, dummy prefix; unk 0, bos 1, eos 2. oracle.model has nothing more; oracle-symbols.model adds
user-defined pieces (matched whole in text, never merged) and control pieces like Mistral v3's [INST] (never
matched in text). Their corpus mixes prose, code indented by tabs and by up to 24 spaces, numbers and several
scripts, generated from a fixed seed, so the same SentencePiece version learns the same pieces.
cases.json holds {"sentencepiece": version, "models": [{"model", "cases": [{"text", "ids"}]}]}: the cases the
engine must match id for id.
"""
import json
import random
import sys

import sentencepiece as spm


def corpus(path):
    rng = random.Random(1)
    words = ("the quick brown fox jumps over lazy dog return value if else for while def class import from self "
             "print result data model token sum count list").split()
    lines = []
    for i in range(4000):
        kind = i % 4
        if kind == 0:
            lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) + ".")
        elif kind == 1:
            indent = " " * rng.choice([0, 2, 4, 8, 12, 16, 20, 24])
            lines.append(indent + rng.choice(["return", "if", "for", "x =", "print("]) + " " + rng.choice(words) + str(rng.randint(0, 999)))
        elif kind == 2:
            lines.append("\t" * rng.randint(0, 3) + rng.choice(words) + "  " + rng.choice(words) + "   " + str(rng.randint(0, 99999)))
        else:
            lines.append(rng.choice(["Héllo wörld", "naïve café", "日本語のテキスト", "Привет мир", "emoji 😀 ok", "a\u00a0b", "x—y"])
                         + " " + rng.choice(words))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def cases():
    rng = random.Random(2)
    texts = [
        "", " ", "  ", "   ", "\n", "\n\n", "\t", " \n ", "a", " a", "a ", "  a  ",
        "Hello world", "Hello  world", "Hello   world.", "The quick brown fox jumps over the lazy dog.",
        "12345", "3.14159", "x = 1234567890", "-42 + 7 = -35", "2024-12-05",
        "def f(x):\n    return x + 1\n", "\tif x:\n\t\treturn y", "class A:\n  def b(self):\n      pass",
        "Héllo wörld", "naïve café", "日本語のテキスト", "Привет мир", "emoji 😀 ok 🎉🎉", "a\u00a0b", "x—y", "中文 and English",
        "\x00", "a\x01b", "\x7f", "\u200b", "tab\tsep\tvalues", "CRLF\r\nline", "<s>", "</s>", "[INST] hi [/INST]", "▁",
        "▁▁ literal", "<0x41>", "<tool> call <tool>", "a@@b@@@c", "def f(): def g", "[INST] do it [/INST]",
        "[INST] You are terse.\n\n    def f():\n        return 1 [/INST]", " The answer is 42.",
    ]
    texts += [" " * n + "return x" for n in range(0, 41)]
    texts += [" " * n for n in range(4, 41, 3)]
    texts += ["\t" * n + "x" for n in range(1, 7)]
    texts += ["word" + " " * n + "word" for n in range(1, 34)]
    alphabet = list("abcdefxyz 0123456789 \t\n.,;:()[]{}-_=+") + ["  ", "    ", "é", "ж", "語", "😀", "\u00a0"]
    for _ in range(150):
        texts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))))
    texts.append(" ".join(["lorem", "ipsum", "dolor", "  sit", "amet", "    return", "42"] * 250))
    return texts


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "encode":
        processor = spm.SentencePieceProcessor(model_file=sys.argv[2])
        with open(sys.argv[3], encoding="utf-8") as f:
            texts = json.load(f)
        json.dump([processor.encode(t) for t in texts], sys.stdout)
    elif len(sys.argv) == 3 and sys.argv[1] == "fixtures":
        out = sys.argv[2]
        corpus(f"{out}/corpus.txt")
        models = {
            "oracle": {},
            "oracle-symbols": {"user_defined_symbols": ["<tool>", "@@", "def "], "control_symbols": ["[INST]", "[/INST]"]},
        }
        fixtures = {"sentencepiece": spm.__version__, "models": []}
        for name, extra in models.items():
            spm.SentencePieceTrainer.train(
                input=f"{out}/corpus.txt", model_prefix=f"{out}/{name}", model_type="bpe", vocab_size=640,
                byte_fallback=True, split_digits=True, allow_whitespace_only_pieces=True, remove_extra_whitespaces=False,
                normalization_rule_name="identity", add_dummy_prefix=True, character_coverage=0.9995,
                split_by_whitespace=True, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, max_sentencepiece_length=16,
                num_threads=1, minloglevel=2, **extra)
            processor = spm.SentencePieceProcessor(model_file=f"{out}/{name}.model")
            fixtures["models"].append({"model": f"{name}.model", "cases": [{"text": t, "ids": processor.encode(t)} for t in cases()]})
        with open(f"{out}/cases.json", "w", encoding="utf-8") as f:
            json.dump(fixtures, f, ensure_ascii=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
