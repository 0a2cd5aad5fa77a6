"""Translation: the seq2seq machinery of summarization with BLEU and chrF; `studio translate` prints
{"translation"} equal to plain `generate` with the same settings; evaluation equals sacrebleu on the model's own
outputs; a multilingual tokenizer is told the languages, and one it does not know is a sentence."""

from __future__ import annotations

import json

import pytest

from studio.cli import main
from studio.core.errors import ConfigError
from studio.core.tasks import registry
from studio.core.tasks.translate import TASK
from studio.core.training.config import RunConfig

WORDS = {"file": "Datei", "not": "nicht", "found": "gefunden", "open": "öffnen", "save": "speichern",
         "error": "Fehler", "folder": "Ordner", "new": "neu"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    import random

    rng = random.Random(0)
    folder = tmp_path_factory.mktemp("translate")
    rows = []
    for _ in range(200):
        words = rng.sample(sorted(WORDS), 3)
        rows.append({"source": " ".join(words), "target": " ".join(WORDS[w] for w in words)})
    data = folder / "pairs.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    out = folder / "run"
    assert main(["--workspace", str(folder / "ws"), "train", "--task", "translate", "--data", str(data), "--out",
                 str(out), "--vocab-size", "300", "--seq-len", "16", "--target-len", "16", "--batch-size", "16",
                 "--max-steps", "40", "--eval-every", "20", "--save-every", "20", "--lr", "3e-3",
                 "--source-lang", "en", "--target-lang", "de", "--device", "cpu"]) == 0
    return out, data


def test_translate_prints_the_translation_plain_generate_gives(run, capsys):
    import transformers

    out, _ = run
    capsys.readouterr()
    assert main(["translate", "--model", str(out), "--text", "file not found", "--num-beams", "2", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"translation"}
    tok = transformers.AutoTokenizer.from_pretrained(out / "model")
    model = transformers.AutoModelForSeq2SeqLM.from_pretrained(out / "model").eval()
    ids = model.generate(**tok("file not found", return_tensors="pt"), num_beams=2, do_sample=False, max_new_tokens=64,
                         early_stopping=True, length_penalty=1.0)
    assert printed["translation"] == tok.decode(ids[0], skip_special_tokens=True)


def test_evaluation_scores_equal_sacrebleu_on_the_models_outputs(run, capsys):
    import sacrebleu
    import transformers

    out, data = run
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", str(data), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert set(scores) == {"bleu", "chrf", "rows"} and scores["rows"] == 200
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    tok = transformers.AutoTokenizer.from_pretrained(out / "model")
    model = transformers.AutoModelForSeq2SeqLM.from_pretrained(out / "model").eval()
    outputs = [tok.decode(model.generate(**tok(r["source"], return_tensors="pt"), do_sample=False, num_beams=1,
                                         max_new_tokens=16)[0], skip_special_tokens=True) for r in rows]
    references = [r["target"] for r in rows]
    assert scores["bleu"] == pytest.approx(sacrebleu.corpus_bleu(outputs, [references]).score, abs=1e-6)
    assert scores["chrf"] == pytest.approx(sacrebleu.corpus_chrf(outputs, [references]).score, abs=1e-6)


def test_the_run_records_its_languages_and_its_history_has_bleu_and_chrf(run, capsys):
    out, _ = run
    capsys.readouterr()
    assert main(["runs", "show", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["task"] == "translate"
    assert any(row.get("eval_bleu") is not None and row.get("eval_chrf") is not None for row in info["history"])
    assert 'source_lang = "en"' in (out / "config.toml").read_text()
    assert 'target_lang = "de"' in (out / "config.toml").read_text()


def test_a_multilingual_tokenizer_is_told_the_languages_and_refuses_one_it_does_not_know():
    class Multilingual:
        src_lang = "en_XX"
        tgt_lang = "en_XX"
        lang_code_to_id = {"en_XX": 1, "de_DE": 2, "fr_XX": 3}

    tok = Multilingual()
    config = RunConfig(task="translate", options={"source_lang": "en_XX", "target_lang": "de_DE"}).task_config()
    assert TASK.adapt_tokenizer(tok, config, "mbart") and (tok.src_lang, tok.tgt_lang) == ("en_XX", "de_DE")
    wrong = RunConfig(task="translate", options={"source_lang": "en_XX", "target_lang": "xx"}).task_config()
    with pytest.raises(ConfigError, match="--target-lang xx is not a language mbart's tokenizer knows"):
        TASK.adapt_tokenizer(tok, wrong, "mbart")
    plain = type("Plain", (), {})()
    assert TASK.adapt_tokenizer(plain, config, "bart-tiny") == []  # a record of the run only


def test_summarization_and_translation_share_the_machinery():
    summarize = registry.get("summarize")
    shared = ("encode", "collator", "evaluate", "answer", "length_limits", "metrics")
    assert all(getattr(type(TASK), name) is getattr(type(summarize), name) for name in shared if name != "answer")
    assert type(TASK).score is not type(summarize).score
