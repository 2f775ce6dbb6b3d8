"""Distil the teacher's validated answers into the embedded SmolLM2-135M: a LoRA adapter trained on CPU and
written as a GGUF adapter that llama.cpp applies to the shipped Q4_1 file.

* Base: the embedded GGUF itself, de-quantised by ``transformers`` (so training sees exactly the weights
  llama.cpp serves); chat template and tokenizer from the same file.
* Data: the kept rows of ``bench/distill/data/teacher.jsonl`` (every sentence passed the validator and the
  strict figure check), formatted with the file's chat template; the loss is on the answer tokens only.
* LoRA (``peft``) on the value and output projections and the MLP (not q/k: llama.cpp stores those
  permuted for its rope layout) of the top 15 layers, rank 8; the loss on the answer tokens alone;
  AdamW, fixed seed, two threads, deterministic order.
* Output: ``models/narrators/smollm2-135m-underwriter.lora.gguf`` (f16 tensors, ~4 MB) and a JSON record
  of the run: data SHA-256, hyper-parameters, losses, adapter SHA-256.

Run: ``.venv/bin/python bench/distill/finetune.py`` (needs ``pip install 'underwriter[distill]'``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.machine import describe, machine  # noqa: E402
from models.backends.llm import embedded_gguf_path  # noqa: E402

DATA = REPO / "bench" / "distill" / "data" / "teacher.jsonl"
ADAPTER = REPO / "models" / "narrators" / "smollm2-135m-underwriter.lora.gguf"
RECORD = REPO / "bench" / "results" / "distill_finetune.json"
TARGETS = ("v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
GGUF_NAMES = {
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def examples(path: Path) -> list[dict[str, Any]]:
    """The teacher's answers that pass today's validator (re-judged, not the flag recorded with them)."""
    from bench.distill.teacher_data import judge

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if judge(r)[0]]


def answer_loss(model: Any, ids: list[int], labels: list[int]) -> Any:
    """Cross-entropy on the answer tokens only, the vocabulary projection run on those positions alone
    (most of a sequence is prompt: projecting it all would be most of the work)."""
    import torch

    start = next(i for i, label in enumerate(labels) if label != -100)
    base = model.get_base_model()
    hidden = base.model(input_ids=torch.tensor([ids])).last_hidden_state[0, start - 1 : -1]
    logits = base.lm_head(hidden)
    return torch.nn.functional.cross_entropy(logits, torch.tensor(ids[start:]))


def encode(tokenizer: Any, row: dict[str, Any], max_len: int) -> tuple[list[int], list[int]] | None:
    """Token ids and labels (-100 on the prompt): the answer is what the model learns to write."""
    messages = [{"role": role, "content": text} for role, text in row["messages"]]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    full = prompt + row["target"] + "<|im_end|>\n"
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    if len(ids) > max_len or ids[: len(prompt_ids)] != prompt_ids:
        return None
    return ids, [-100] * len(prompt_ids) + ids[len(prompt_ids) :]


def write_adapter(model: Any, path: Path, alpha: float) -> None:
    """The PEFT weights as llama.cpp's LoRA GGUF: ``blk.N.attn_v.weight.lora_a`` (rank x in) and
    ``.lora_b`` (out x rank), ``general.type = adapter``, ``adapter.lora.alpha``."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    for name, module in model.named_modules():
        if not hasattr(module, "lora_A") or "default" not in module.lora_A:
            continue
        layer = int(name.split(".layers.")[1].split(".")[0])
        suffix = next(v for k, v in GGUF_NAMES.items() if name.endswith(k))
        base = f"blk.{layer}.{suffix}.weight"
        a = module.lora_A["default"].weight.detach().float().numpy().astype(np.float16)
        b = module.lora_B["default"].weight.detach().float().numpy().astype(np.float16)
        writer.add_tensor(base + ".lora_a", a)
        writer.add_tensor(base + ".lora_b", b)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=ADAPTER)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument(
        "--layers", type=int, default=15, help="adapt the top N of the 30 layers (fewer: faster)"
    )
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--batch", type=int, default=8, help="examples per optimiser step")
    parser.add_argument("--max-len", type=int, default=640)
    parser.add_argument("--max-steps", type=int, default=0, help="stop early (a smoke run)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def lora_model(args: argparse.Namespace) -> tuple[Any, Any]:
    """The embedded GGUF de-quantised, with LoRA on the top ``args.layers`` layers; and its tokenizer."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = embedded_gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32
    )
    layers = model.config.num_hidden_layers
    config = LoraConfig(
        r=args.rank,
        lora_alpha=2.0 * args.rank,
        lora_dropout=0.0,
        target_modules=list(TARGETS),
        layers_to_transform=list(range(layers - args.layers, layers)),
        bias="none",
    )
    return get_peft_model(model, config), tokenizer


def train(model: Any, encoded: list[tuple[list[int], list[int]]], args: argparse.Namespace) -> list[float]:
    """AdamW with a 10-step warm-up and a linear decay, in a fixed shuffled order; the loss per step."""
    import torch

    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    steps = int(len(encoded) * args.epochs / args.batch)
    if args.max_steps:
        steps = min(steps, args.max_steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / 10) * max(0.0, 1 - s / steps)
    )
    order = [i for _ in range(int(args.epochs) + 1) for i in random.sample(range(len(encoded)), len(encoded))]
    losses, started = [], time.perf_counter()
    model.train()
    for step in range(steps):
        optimiser.zero_grad()
        total = 0.0
        for i in order[step * args.batch : (step + 1) * args.batch]:
            ids, labels = encoded[i]
            loss = answer_loss(model, ids, labels)
            (loss / args.batch).backward()
            total += float(loss) / args.batch
        optimiser.step()
        schedule.step()
        losses.append(round(total, 4))
        print(f"step {step + 1}/{steps} loss {total:.4f} {time.perf_counter() - started:.0f} s", flush=True)
    return losses


def _in_repo(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def main() -> None:
    print(describe(), flush=True)
    args = parse_args()
    import torch

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(2)
    model, tokenizer = lora_model(args)
    rows = examples(args.data)
    encoded = [e for e in (encode(tokenizer, r, args.max_len) for r in rows) if e is not None]
    print(f"{len(rows)} kept teacher examples, {len(encoded)} within {args.max_len} tokens", flush=True)
    started = time.perf_counter()
    losses = train(model, encoded, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_adapter(model, args.out, 2.0 * args.rank)
    record = {
        "machine": machine(),
        "data": _in_repo(args.data),
        "data_sha256": hashlib.sha256(args.data.read_bytes()).hexdigest(),
        "examples": len(encoded),
        "base_gguf": embedded_gguf_path().name,
        "hyper": {
            k: getattr(args, k) for k in ("epochs", "rank", "layers", "lr", "batch", "max_len", "seed")
        },
        "targets": list(TARGETS),
        "steps": len(losses),
        "seconds": round(time.perf_counter() - started, 1),
        "loss_first_10": losses[:10],
        "loss_last_10": losses[-10:],
        "adapter": _in_repo(args.out),
        "adapter_sha256": hashlib.sha256(args.out.read_bytes()).hexdigest(),
        "adapter_bytes": args.out.stat().st_size,
    }
    if args.out == ADAPTER:
        RECORD.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
