"""Machine translation (encoder-decoder): learn source -> target in another language; BLEU and chrF; the Playground
translates as you type. Everything it shares with summarization is in seq2seq: what differs is its columns, its
score, its sample, its languages and its words."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from studio.core.control import Control
from studio.core.data import encoding
from studio.core.data.columns import TEXT, Column
from studio.core.errors import ConfigError
from studio.core.modeling.presets import MAX_POSITIONS
from studio.core.playground import sampling
from studio.core.playground.generation import Generation
from studio.core.settings import Setting
from studio.core.tasks import outputs
from studio.core.tasks.base import Command, Metric, OnToken, PlaygroundSpec, Request, TaskConfig
from studio.core.tasks.bleu import bleu_chrf
from studio.core.tasks.seq2seq import Seq2SeqTask

# Beam search without sampling, and no ban on repeated words: a translation repeats what its source repeats.
_OPTIONS = tuple(dataclasses.replace(o, default=0) if o.name == "no_repeat_ngram_size" else o
                 for o in sampling.options(beams=4, max_new=64, lengths=True))


@dataclass
class Translated(Generation):
    def as_dict(self) -> dict[str, Any]:
        return {"translation": self.text}


class Translation(Seq2SeqTask):
    name = "translate"
    title = "Translation"
    help = "Learn to translate a text into another language (encoder-decoder); the Playground translates."
    columns = (Column("source", "Source text", TEXT, ("source", "src", "english", "en", "text", "input"),
                      "The text to translate"),
               Column("target", "Translation", TEXT, ("target", "tgt", "translation", "output"),
                      "Its translation"))
    presets = ("bart-tiny", "t5-tiny", "bart-small")
    samples = ("sample:messages-de", "sample:messages-fr", "sample:messages-es")
    headline = (Metric("eval_bleu", "BLEU"), Metric("eval_chrf", "chrF"))
    playground = PlaygroundSpec(input_title="Text to translate", action="Translate", beams=True, as_you_type=True)
    command = Command("translate", help="translate a text with an encoder-decoder model", file="whole",
                      options=_OPTIONS, json_help='print {"translation": text}',
                      example="File not found")
    output = outputs.TEXT
    pipeline_tag = "translation"
    starts_from = ("translation", "text2text-generation")
    settings = (Setting("target_len", "int", 64, help="translation length limit in tokens",
                        title="Translation length", low=4, high=MAX_POSITIONS, metavar="N", step=8),
                Setting("source_lang", "str", "", metavar="L", title="Source language",
                        help="the source's language code (en); given to a multilingual tokenizer that needs it"),
                Setting("target_lang", "str", "", metavar="L", title="Target language",
                        help="the translation's language code (de); given to a multilingual tokenizer"))
    model_note = "an encoder-decoder (BART, T5, Marian, ...) learns your source -> translation pairs"
    # Measured on sample:messages-de, bart-tiny, 2 cores: 2,000 steps (2.2 minutes) leave BLEU 11.2 and chrF 18.9,
    # under the 26 chrF of copying the English unchanged; 8,000 (7.6 minutes) reach BLEU 28.5 and chrF 46.2,
    # translations a person can read ("Register JIT-compiled functions with debugger." -> "Register-IT-C-
    # Funktion mit Debug-Ausdrücken.").
    recipe = (("max_steps", 8000), ("eval_every", 1000), ("save_every", 2000))

    def score(self, generated: list[str], references: list[str]) -> dict[str, float]:
        return bleu_chrf(generated, references)

    def adapt_tokenizer(self, tokenizer: Any, config: TaskConfig, model: str) -> list[str]:
        """A multilingual tokenizer (mBART-50, NLLB, M2M100) is told the languages; one it does not know is a
        sentence. Other tokenizers take the codes as a record of the run only."""
        notes = []
        for attribute, name in (("src_lang", "source_lang"), ("tgt_lang", "target_lang")):
            code = config[name]
            if not code or not hasattr(tokenizer, attribute):
                continue
            try:
                setattr(tokenizer, attribute, code)
                head, _ = encoding.frame(tokenizer, target=attribute == "tgt_lang")
            except (KeyError, ValueError):  # M2M100 looks the code up as it is set
                head = [tokenizer.unk_token_id]
            if tokenizer.unk_token_id is not None and tokenizer.unk_token_id in head:
                raise ConfigError(f"--{name.replace('_', '-')} {code} is not a language {model}'s tokenizer knows; "
                                  f"it knows {', '.join(_language_codes(tokenizer)[:8])}, ...")
            notes.append(f"The tokenizer marks the {name.split('_')[0]} as {code}.")
        return notes

    def answer(self, loaded: Any, request: Request, *, on_token: OnToken | None = None,
               control: Control | None = None) -> Any:
        return Translated(**vars(super().answer(loaded, request, on_token=on_token, control=control)))


def _language_codes(tokenizer: Any) -> list[str]:
    known = getattr(tokenizer, "lang_code_to_id", None)
    if known:
        return sorted(known)
    plain = {tokenizer.bos_token, tokenizer.eos_token, tokenizer.unk_token, tokenizer.pad_token, tokenizer.mask_token,
             tokenizer.sep_token, tokenizer.cls_token}
    return [t for t in tokenizer.all_special_tokens if t not in plain]


TASK = Translation()
