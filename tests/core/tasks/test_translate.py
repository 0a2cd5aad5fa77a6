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


def nllb_tokenizer():
    """A real NLLB tokenizer (its template and its 200 language codes) over a vocabulary of a few pieces."""
    from transformers import NllbTokenizer

    pieces = ["<s>", "<pad>", "</s>", "<unk>", "▁", *"abcdefghijklmnopqrstuvwxyz"]
    return NllbTokenizer(vocab={p: i for i, p in enumerate(pieces)}, merges=[])


def test_a_multilingual_tokenizer_is_told_the_languages_and_refuses_one_it_does_not_know():
    tok = nllb_tokenizer()
    config = RunConfig(task="translate", options={"source_lang": "eng_Latn", "target_lang": "deu_Latn"}).task_config()
    assert TASK.adapt_tokenizer(tok, config, "nllb") and (tok.src_lang, tok.tgt_lang) == ("eng_Latn", "deu_Latn")
    wrong = RunConfig(task="translate", options={"source_lang": "eng_Latn", "target_lang": "de"}).task_config()
    with pytest.raises(ConfigError, match="--target-lang de is not a language nllb's tokenizer knows; it knows "
                                          "ace_Arab, ace_Latn"):
        TASK.adapt_tokenizer(tok, wrong, "nllb")
    plain = type("Plain", (), {})()
    assert TASK.adapt_tokenizer(plain, config, "bart-tiny") == []  # a record of the run only


def test_targets_carry_the_target_language_and_generation_begins_with_it():
    import torch
    from datasets import Dataset
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    from studio.core.data.tokenizer import train_bpe
    from studio.core.tasks.seq2seq import begin_with_target_language

    tok = nllb_tokenizer()
    config = RunConfig(task="translate", seq_len=16,
                       options={"source_lang": "eng_Latn", "target_lang": "deu_Latn"}).task_config()
    TASK.adapt_tokenizer(tok, config, "nllb")
    rows = Dataset.from_list([{"source": "file not found", "target": "datei nicht gefunden"}])
    encoded, _ = TASK.encode(rows, tok, {"source": "source", "target": "target"}, config, ordered=False)
    source, labels = encoded[0]["input_ids"], encoded[0]["labels"]
    english, german = tok.convert_tokens_to_ids("eng_Latn"), tok.convert_tokens_to_ids("deu_Latn")
    assert source[0] == english and labels[0] == german and labels[-1] == tok.eos_token_id
    assert labels == tok(text_target="datei nicht gefunden")["input_ids"]  # as transformers' run_translation
    torch.manual_seed(0)
    model = M2M100ForConditionalGeneration(M2M100Config(
        vocab_size=len(tok), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=64,
        pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.eos_token_id))
    assert TASK.adapt_model(model, tok, config) == [
        "Outputs begin with deu_Latn, the target language's code, as the model's multilingual training taught it."]
    assert model.generation_config.forced_bos_token_id == german
    out = model.generate(torch.tensor([source]), max_new_tokens=4, do_sample=False)[0].tolist()
    assert out[:2] == [tok.eos_token_id, german]
    bart = train_bpe(["file not found"] * 10, 300, family="bart")  # frames source and target alike
    model.generation_config.forced_bos_token_id = None
    assert begin_with_target_language(model, bart) is None and model.generation_config.forced_bos_token_id is None


def test_summarization_and_translation_share_the_machinery():
    summarize = registry.get("summarize")
    shared = ("encode", "collator", "evaluate", "answer", "length_limits", "metrics")
    assert all(getattr(type(TASK), name) is getattr(type(summarize), name) for name in shared if name != "answer")
    assert type(TASK).score is not type(summarize).score
