"""Byte-level BPE tokenizers trained with `tokenizers` and saved as `transformers` fast tokenizers.

Byte-level so any UTF-8 text (code, emoji, accents) round-trips without an unknown token. Each model
family gets its own special tokens and the special-token template its real checkpoints use, held in the
post-processor: `[CLS] x [SEP]` for BERT, `<s> x </s>` for BART, `x </s>` for T5 and none for GPT-2 (a
prompt must not end in an end-of-text token). So `tokenizer(text)` encodes the same way here, in plain
transformers and in its pipelines.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.core.control import Control
from studio.core.errors import TokenizerError, first_line
from studio.core.hub import reach as hub

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"


@dataclass(frozen=True)
class Family:
    """A model family's special tokens (role -> token, in id order) and its template for one text."""

    specials: dict[str, str]
    template: str | None  # e.g. "[CLS] $A [SEP]"; None adds nothing
    pair: str | None = None
    chat_template: str | None = None  # a chat template the tokenizer carries (see chat_templates), by name


FAMILIES = {
    "gpt2": Family({"pad": PAD, "bos": BOS, "eos": EOS, "unk": UNK}, None),
    # GPT-2's byte-level tokens, and ChatML, so a Llama preset can be chat-tuned as it comes
    "llama": Family({"pad": PAD, "bos": BOS, "eos": EOS, "unk": UNK}, None, chat_template="chatml"),
    "bart": Family({"pad": PAD, "bos": BOS, "eos": EOS, "unk": UNK, "mask": "<mask>"}, "<s> $A </s>",
                   "<s> $A </s> </s> $B </s>"),
    "t5": Family({"pad": PAD, "bos": BOS, "eos": EOS, "unk": UNK}, "$A </s>", "$A </s> $B </s>"),
    "bert": Family({"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"},
                   "[CLS] $A [SEP]", "[CLS] $A [SEP] $B:1 [SEP]:1"),
}
SPECIAL_TOKENS = list(FAMILIES["gpt2"].specials.values())
MIN_VOCAB = 256 + max(len(f.specials) for f in FAMILIES.values())  # every byte plus the special tokens
MAX_VOCAB = 1_000_000
_BATCH = 1000


def check_vocab_size(vocab_size: int) -> None:
    if not MIN_VOCAB <= vocab_size <= MAX_VOCAB:
        raise TokenizerError(f"A vocabulary size of {vocab_size} is impossible for a byte-level tokenizer; "
                             f"choose between {MIN_VOCAB} and {MAX_VOCAB} (8000 to 50000 is usual).")


_ROLE_WORDS = "system\nuser\nassistant\n"


def train_bpe(texts: Iterable[str], vocab_size: int, *, family: str = "gpt2", total: int | None = None,
              progress: Callable[[float], None] | None = None,
              control: Control | None = None) -> PreTrainedTokenizerBase:
    """Train a byte-level BPE for a model `family` on `texts`; `progress` gets the fraction of rows read.

    The Rust trainer reads every row before it learns merges, so 100% read is not yet done.
    """
    check_vocab_size(vocab_size)
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    kind = FAMILIES[family]
    specials = list(kind.specials.values())
    tokenizer = Tokenizer(models.BPE(unk_token=kind.specials["unk"]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)

    def batches() -> Iterator[list[str]]:
        seen, batch = 0, []
        for text in texts:
            if text:
                batch.append(text)
            seen += 1
            if len(batch) == _BATCH:
                yield _checked(batch, seen)
                batch = []
        if batch:
            yield _checked(batch, seen)

    def _checked(batch: list[str], seen: int) -> list[str]:
        # The Rust trainer pulls from this iterator, so raising here is how a stop reaches it.
        if control is not None:
            control.checkpoint()
        if progress is not None and total:
            progress(min(1.0, seen / total))
        # A family with a chat template writes its roles' names in every conversation; data of plain texts
        # (a preference pair's prompt and answers) never shows them, and they would be spelled out byte by byte.
        return batch + [_ROLE_WORDS] * len(batch) if kind.chat_template else batch

    tokenizer.train_from_iterator(batches(), trainer=trainer, length=total)
    if tokenizer.get_vocab_size() <= MIN_VOCAB:
        raise TokenizerError("The data is too small to learn any merges; give the tokenizer more text or "
                             "use a model's own tokenizer.")
    return _wrap(tokenizer, kind)


def _wrap(tokenizer: Any, kind: Family) -> PreTrainedTokenizerBase:
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    # Byte-level tokens carry the space before a word ("Ġword"); trimmed offsets point at the word
    # itself, so entity spans and whole-word masking see where words begin.
    steps = [processors.ByteLevel(trim_offsets=True)]
    if kind.template is not None:
        used = {t for t in (kind.template + " " + (kind.pair or "")).split() if not t.startswith("$")}
        ids = sorted({(t.split(":")[0], tokenizer.token_to_id(t.split(":")[0])) for t in used})
        steps.append(processors.TemplateProcessing(single=kind.template, pair=kind.pair, special_tokens=ids))
    tokenizer.post_processor = processors.Sequence(steps)
    names = {f"{role}_token": token for role, token in kind.specials.items()}
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, model_max_length=1_000_000, **names)
    if kind.chat_template is not None:
        from studio.core.data import chat_templates

        # a language model trained on plain text still ends its texts with </s>
        chat_templates.apply(wrapped, kind.chat_template, turn_end_is_eos=False)
    return wrapped


def load_tokenizer(path: str | Path, *, trust_remote_code: bool = False) -> PreTrainedTokenizerBase:
    """Load a tokenizer folder (or a model folder or hub id that has one) with `AutoTokenizer`."""
    from transformers import AutoTokenizer

    local = Path(path).expanduser()
    if local.exists() and not local.is_dir():
        raise TokenizerError(f"'{path}' is a file; a tokenizer is a folder with tokenizer.json in it.")
    if local.is_dir() and not any((local / n).exists() for n in ("tokenizer.json", "tokenizer_config.json",
                                                                  "vocab.json", "spiece.model")):
        raise TokenizerError(f"'{path}' has no tokenizer files (tokenizer.json); train one with "
                             "'studio tokenizer train' or pick the folder of a saved model.")
    extra = {} if local.is_dir() else hub.load_kwargs()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(local) if local.is_dir() else str(path),
                                                  trust_remote_code=trust_remote_code, **extra)
    except Exception as exc:  # noqa: BLE001 - any failure here means "cannot use this tokenizer"
        raise TokenizerError(f"Could not load a tokenizer from '{path}' ({first_line(exc)}); check the "
                             "folder, or the name and your network for a hub id.") from exc
    return ensure_special_tokens(tokenizer)


def ensure_special_tokens(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """Give a borrowed tokenizer the pad and end tokens that batching and training need."""
    if tokenizer.eos_token is None:  # GPT-2's kind: one token begins and ends texts
        tokenizer.eos_token = tokenizer.sep_token or tokenizer.bos_token or EOS
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


SMALL_PIECES = 2.0  # characters a token below which a tokenizer reads a text nearly letter by letter
_MEASURED_TEXTS = 500


def characters_per_token(tokenizer: PreTrainedTokenizerBase, texts: Iterable[str]) -> float | None:
    """How many characters of `texts` a token of `tokenizer` holds on average (the first few hundred texts)."""
    sample = [t for t in itertools.islice(texts, _MEASURED_TEXTS) if t]
    tokens = sum(len(ids) for ids in tokenizer(sample, add_special_tokens=False)["input_ids"]) if sample else 0
    return sum(map(len, sample)) / tokens if tokens else None


def pieces_note(per_token: float, model: str, added: list[str]) -> str:
    """What a person should know of a borrowed tokenizer that cuts the data into pieces of `per_token` characters
    (a 330-token masked-LM vocabulary spelled a new task's words out), and of the words `added` as tokens."""
    said = (f"The tokenizer of {model} cuts your text into pieces of {per_token:.1f} characters on average, so the "
            "model would read it nearly letter by letter and learn more slowly than from whole words.")
    if added:
        shown = ", ".join(added[:3])
        return (f"{said} {len(added):,} of your data's frequent words it cuts into several pieces ({shown}, ...) "
                "become tokens of their own, each starting as the mean of its pieces (--new-words off keeps the "
                "tokenizer as it is).")
    return (f"{said} A tokenizer trained on text like yours keeps its words whole: pretrain on such text, or train "
            "from a preset, which trains one on your data.")


def save_tokenizer(tokenizer: PreTrainedTokenizerBase, out: Path) -> None:
    from studio.core.system.files import atomic_dir

    with atomic_dir(out) as tmp:
        tokenizer.save_pretrained(str(tmp))
