"""Summarization (encoder-decoder): learn source -> target summaries; ROUGE; the Playground summarizes a text.
Everything it shares with translation is in seq2seq."""

from __future__ import annotations

from studio.core.data.columns import TEXT, Column
from studio.core.modeling.presets import MAX_POSITIONS
from studio.core.playground import sampling
from studio.core.settings import Setting
from studio.core.tasks import outputs
from studio.core.tasks.base import Command, Metric, PlaygroundSpec
from studio.core.tasks.rouge import rouge
from studio.core.tasks.seq2seq import Seq2SeqTask


class Summarization(Seq2SeqTask):
    name = "summarize"
    title = "Summarization"
    help = "Learn to turn a source text into its summary (encoder-decoder); the Playground summarizes."
    columns = (Column("source", "Source text", TEXT, ("source", "document", "article", "text", "input", "code"),
                      "The text to summarize"),
               Column("target", "Target summary", TEXT, ("target", "summary", "highlights", "output"),
                      "Its summary"))
    presets = ("bart-tiny", "bart-small", "t5-tiny")
    samples = ("sample:docstrings",)
    headline = (Metric("eval_rouge1", "ROUGE-1", share=True), Metric("eval_rouge2", "ROUGE-2", share=True),
                Metric("eval_rougeL", "ROUGE-L", share=True))
    playground = PlaygroundSpec(input_title="Text to summarize", action="Summarize", beams=True)
    command = Command("summarize", help="summarize a text with an encoder-decoder model", file="whole",
                      options=sampling.options(beams=sampling.SUMMARY_DEFAULTS["num_beams"], max_new=64, lengths=True),
                      json_help="print text, tokens with log-probabilities, tokens/s",
                      example="def add(a, b):\n    return a + b")
    output = outputs.TEXT
    pipeline_tag = "summarization"
    starts_from = ("summarization", "text2text-generation")
    settings = (Setting("target_len", "int", 48, help="summary length limit in tokens", title="Summary length",
                        low=4, high=MAX_POSITIONS, metavar="N", step=8),)
    model_note = "an encoder-decoder (BART, T5, ...) learns your source -> target pairs"
    # Learning to read the source takes longer than learning the summaries' language: on sample:docstrings
    # bart-tiny scores ROUGE-L 0.166 at 600 steps (under the best constant summary, 0.175), 0.213 at 2,000
    # (5 minutes on 2 cores) and 0.215 at 3,000 (8 minutes). Evaluating (generating) every 100 steps would
    # cost a quarter of the run.
    recipe = (("max_steps", 2000), ("eval_every", 250), ("save_every", 500))

    def score(self, generated: list[str], references: list[str]) -> dict[str, float]:
        return rouge(generated, references)


TASK = Summarization()
