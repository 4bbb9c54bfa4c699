#!/usr/bin/python3
"""Fine-tunes the learned cerebellum stage from recorded episodes (`pons finetune cerebellum`).

Input: a training set (JSON) that `pons finetune cerebellum` extracts from cerebellum
recordings: per executed chunk step, what the stage sees at run time (the joint state the step
starts from and the next K chunk targets, exactly as src/cerebellum/chunk-correction.ts builds
them) and the label: the tracking error the arm showed at that step (target - measured
position when the step was due), bounded by the package's max correction. The stage learns to
add that error to the target beforehand.

Output, in --out: model.onnx, pons.json (normalization from the data, training provenance and
held-out errors), golden.json (held-out inputs -> PyTorch corrections, for the runtime's
parity check) and loss.png. The architecture, export and manifest are make_learned_stage.py's.

    /usr/bin/python3 models/training/finetune_learned_stage.py --data trainset.json \
        --out models/<name> --spec-id <64 hex> [--steps 3000] [--device auto]
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loss_plot import write_loss_png  # noqa: E402
from make_learned_stage import (  # noqa: E402
    OPSET,
    CorrectionMLP,
    apply_normalized,
    export_onnx,
    write_golden,
    write_json,
    write_manifest,
)

STD_FLOOR = 1e-3


def stats(x):
    return {
        "mean": [float(v) for v in x.mean(0)],
        "std": [float(max(v, STD_FLOOR)) for v in x.std(0, unbiased=False)],
    }


def normalize(x, s):
    return (x - torch.tensor(s["mean"])) / torch.tensor(s["std"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--spec-id", required=True)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    args = parser.parse_args()

    with open(args.data, encoding="utf-8") as f:
        data = json.load(f)
    joints, k, max_correction = data["joints"], data["lookahead"], data["max_correction"]
    j = len(joints)

    def tensors(rows):
        position = torch.tensor(rows["position"], dtype=torch.float32).reshape(-1, j)
        velocity = torch.tensor(rows["velocity"], dtype=torch.float32).reshape(-1, j)
        targets = torch.tensor(rows["targets"], dtype=torch.float32).reshape(-1, k * j)
        label = torch.tensor(rows["correction"], dtype=torch.float32).reshape(-1, j)
        return torch.cat([position, velocity], 1), targets, label

    train_state, train_targets, train_label = tensors(data["train"])
    val_state, val_targets, val_label = tensors(data["held_out"])
    if len(train_label) < 16 or len(val_label) < 4:
        sys.exit(f"{args.data}: {len(train_label)} training and {len(val_label)} held-out "
                 "samples: too few to train on (record more episodes)")

    torch.manual_seed(args.seed)
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else (
        "cpu" if args.device == "auto" else args.device)
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    normalization = {
        "joint_state": stats(train_state),
        "targets": stats(train_targets),
        "correction": stats(train_label),
    }
    xs = normalize(train_state, normalization["joint_state"]).to(device)
    xt = normalize(train_targets, normalization["targets"]).to(device)
    y = normalize(train_label, normalization["correction"]).to(device)
    vs = normalize(val_state, normalization["joint_state"]).to(device)
    vt = normalize(val_targets, normalization["targets"]).to(device)
    vy = normalize(val_label, normalization["correction"]).to(device)

    model = CorrectionMLP(j, k, hidden=args.hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps)
    generator = torch.Generator(device="cpu").manual_seed(args.seed)
    curve, held_out = [], []
    every = max(1, args.steps // 20)
    started = time.perf_counter()
    for step in range(1, args.steps + 1):
        idx = torch.randint(len(y), (min(args.batch, len(y)),), generator=generator).to(device)
        loss = torch.nn.functional.mse_loss(model(xs[idx], xt[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % every == 0 or step == 1 or step == args.steps:
            with torch.no_grad():
                val = torch.nn.functional.mse_loss(model(vs, vt), vy).item()
            curve.append((step, loss.item()))
            held_out.append((step, val))
            print(f"step {step}/{args.steps} loss {loss.item():.4f} held-out {val:.4f}",
                  file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started

    model = model.to("cpu").eval()
    with torch.no_grad():
        predicted = apply_normalized(model, normalization, val_state, val_targets)
    predicted = predicted.clamp(-max_correction, max_correction)
    rms = lambda t: [float(v) for v in t.pow(2).mean(0).sqrt()]  # noqa: E731
    before, after = rms(val_label), rms(val_label - predicted)

    os.makedirs(args.out, exist_ok=True)
    export_onnx(model, os.path.join(args.out, "model.onnx"), j, k)
    training = {
        "trained": True,
        "script": "models/training/finetune_learned_stage.py",
        "data": data["source"],
        "samples": {"train": len(train_label), "held_out": len(val_label)},
        "steps": args.steps,
        "seed": args.seed,
        "device": device,
        "seconds": round(seconds, 1),
        "first_loss": curve[0][1],
        "final_loss": curve[-1][1],
        "held_out_loss": held_out[-1][1],
        # Tracking error left on held-out steps if the correction were applied as predicted.
        "held_out_rms_rad": {"before": before, "after": after},
        "torch": torch.__version__.split("+")[0],
        "opset": OPSET,
    }
    write_manifest(
        os.path.join(args.out, "pons.json"),
        args.spec_id,
        joints,
        k,
        max_correction,
        normalization,
        training=training,
        description="Learned cerebellum stage fine-tuned by `pons finetune cerebellum` from "
        "recorded episodes: it adds the tracking error the arm showed for such a state and "
        "such targets to the target beforehand.",
    )
    cases = [
        (f"held-out-{i}", val_state[i, :j], val_state[i, j:], val_targets[i])
        for i in range(0, len(val_label), max(1, len(val_label) // 16))
    ][:16]
    write_golden(os.path.join(args.out, "golden.json"), model, normalization, cases,
                 "held-out samples of the training data: PyTorch corrections (before the "
                 "runtime's clamp to max_correction)")
    write_loss_png(os.path.join(args.out, "loss.png"),
                   {"train": curve, "held-out": held_out},
                   "learned cerebellum stage: MSE (normalized units)")
    print(json.dumps({"event": "trained", **training}), flush=True)


if __name__ == "__main__":
    main()
