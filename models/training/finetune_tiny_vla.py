#!/usr/bin/python3
"""Fine-tunes a LLaVA brain package of the tiny-vla family on a pons training set.

The training set (written by `pons finetune brain`, src/nodes/training-set.ts) holds each
decision's prompt ids and resized image bytes, made by the runtime's own prompt encoder and
preprocessor, and the decision's action tokens. This script:

  - builds the model of the base package's config.json (make_tiny_vla.py's modules) and loads
    the base's weights from its ONNX initializers (package_weights.py), so any package in the
    format can be a base;
  - trains next-token cross-entropy on the action tokens with teacher forcing (the prompt,
    then the decision's tokens; each token predicted from the ones before it, over the action
    id range the runtime's constrained decoding chooses from), AdamW with warm-up and cosine
    decay, seeded, on the CPU or CUDA (`--device auto`);
  - prints progress lines and draws the loss curve (`training/loss.png`);
  - exports the ONNX split (models/export/llava_onnx.py) with config, tokenizer, preprocessor
    config and pons.json (`training.trained: true`, the data, steps and losses) into --out;
  - writes `parity.json`: for held-out rows, the greedy autoregressive tokens and their
    action-range logits from the plain PyTorch model (full sequence, no KV cache), which the
    TypeScript runtime must reproduce before it accepts the package.

Run with Debian's interpreter (python3-torch, python3-onnx, python3-pil):

    /usr/bin/python3 models/training/finetune_tiny_vla.py --train <set> --validation <set> \
        --base models/tiny-vla --out models/<name>
"""

import argparse
import json
import math
import os
import shutil
import sys
import time

import blas


def fast_blas():
    """OpenBLAS, where libopenblas0-pthread is installed: about 30x faster than the reference
    BLAS. Idle OpenMP threads sleep rather than spin: on a small shared CPU spinning costs
    several times the compute."""
    if os.environ.get("OMP_WAIT_POLICY") is None:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    blas.rerun_with(blas.OPENBLAS)


if __name__ == "__main__":
    fast_blas()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "export"))
sys.path.insert(0, HERE)

import llava_onnx  # noqa: E402
import make_tiny_vla  # noqa: E402
from grounding import LAYER, Grounding  # noqa: E402
from loss_plot import write_loss_png  # noqa: E402
from package_weights import (  # noqa: E402
    load_package_weights,
    model_for,
    read_config,
    transplant,
)

FORMAT = "pons-training-set/1"
COPIED = ("tokenizer.json", "tokenizer_config.json")
PARITY_TOLERANCE = 1e-4
MIN_MARGIN = 1e-3


def log(message):
    """Progress on stderr; stdout carries only the result (src/nodes/trainer-process.ts)."""
    print(message, file=sys.stderr, flush=True)


class TrainingSet:
    """A training set directory, memory-mapped."""

    def __init__(self, directory):
        path = os.path.join(directory, "meta.json")
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: format is {meta.get('format')!r}, not {FORMAT!r}")
        self.dir, self.meta, self.rows = directory, meta, meta["rows"]
        n = meta["count"]
        if n != len(self.rows) or n == 0:
            raise ValueError(f"{path}: count {n} with {len(self.rows)} rows")
        h, w, c = meta["image"]["height"], meta["image"]["width"], meta["image"]["channels"]
        self.count, self.shape = n, (h, w, c)
        self.tokens = meta["action_tokens"]["count"]
        self.first_id = meta["action_tokens"]["first_id"]
        self.pixels = self.map("pixels.u8", np.uint8, (n, h, w, c))
        total = sum(r["prompt_length"] for r in self.rows)
        self.prompts = self.map("prompts.i32", np.int32, (total,))
        self.actions = self.map("actions.i32", np.int32, (n, self.tokens))
        # Byte v of channel c becomes tables[c][v]: the runtime's rescale and normalize.
        self.tables = torch.tensor(meta["pixel_tables"], dtype=torch.float32)

    def map(self, name, dtype, shape):
        path = os.path.join(self.dir, name)
        want = int(np.prod(shape)) * np.dtype(dtype).itemsize
        if os.path.getsize(path) != want:
            raise ValueError(f"{path}: {os.path.getsize(path)} bytes, meta.json implies {want}")
        return np.memmap(path, dtype=dtype, mode="r", shape=shape)

    def prompt(self, i):
        r = self.rows[i]
        return self.prompts[r["prompt_offset"]: r["prompt_offset"] + r["prompt_length"]]

    def pixel_values(self, indices, device):
        """[b, 3, H, W] float32, exactly as the runtime's preprocessor computes them."""
        raw = torch.from_numpy(np.ascontiguousarray(self.pixels[indices])).to(device).long()
        tables = self.tables.to(device)
        return torch.stack([tables[c][raw[..., c]] for c in range(3)], dim=1)

    def batch(self, indices, device, pad_id):
        """Teacher-forcing inputs: ids [b, s] (prompt, then all but the last action token,
        right-padded), where each row's prompt ends, image starts, targets [b, tokens]."""
        prompts = [self.prompt(i) for i in indices]
        actions = self.actions[indices]
        length = max(len(p) for p in prompts) + self.tokens - 1
        ids = np.full((len(indices), length), pad_id, dtype=np.int64)
        for b, p in enumerate(prompts):
            ids[b, : len(p)] = p
            ids[b, len(p): len(p) + self.tokens - 1] = actions[b, :-1]
        ends = torch.tensor([len(p) for p in prompts], device=device)
        starts = torch.tensor([self.rows[i]["image_start"] for i in indices], device=device)
        targets = torch.from_numpy(actions.astype(np.int64) - self.first_id).to(device)
        return torch.from_numpy(ids).to(device), ends, starts, targets


def action_logits(model, pixels, ids, ends, starts, tokens, first, last):
    """[b, tokens, action ids] logits predicting each action token (teacher forcing)."""
    features = model.image_features(pixels)  # [b, image tokens, hidden]
    embeds = model.model.language_model.embed_tokens(ids)
    n = features.shape[1]
    b = torch.arange(ids.shape[0], device=ids.device)[:, None]
    positions = starts[:, None] + torch.arange(n, device=ids.device)[None]
    embeds = embeds.index_put((b, positions), features)
    hidden = model.model.language_model(embeds)  # causal: right padding changes nothing before
    at = ends[:, None] - 1 + torch.arange(tokens, device=ids.device)[None]
    picked = hidden[b, at]  # [b, tokens, hidden]
    return picked @ model.lm_head.weight[first: last + 1].T


def evaluate(model, data, indices, device, args, first, last, pad_id, grounding=None):
    """(mean cross-entropy, token accuracy, share of rows whose best-scored patch shows the
    named block, or None without grounding) over `indices`."""
    model.eval()
    total, correct, count, hits, grounded = 0.0, 0, 0, 0, 0
    with torch.no_grad():
        for s in range(0, len(indices), args.batch_size):
            chunk = indices[s: s + args.batch_size]
            ids, ends, starts, targets = data.batch(chunk, device, pad_id)
            logits = action_logits(model, data.pixel_values(chunk, device), ids, ends, starts,
                                   data.tokens, first, last)
            total += float(torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum"))
            correct += int((logits.argmax(-1) == targets).sum())
            count += targets.numel()
            if grounding:
                h, n = grounding.hits(chunk, starts)
                hits, grounded = hits + h, grounded + n
    model.train()
    return total / count, correct / count, (hits / grounded if grounding and grounded else None)


def greedy_reference(model, data, i, first, last):
    """The plain model's greedy autoregressive decision for row i (full sequence each step):
    tokens, every step's action-range logits, the smallest best-vs-second margin."""
    ids = torch.from_numpy(data.prompt(i).astype(np.int64))
    with torch.no_grad():
        features = model.image_features(data.pixel_values([i], "cpu"))
        tokens, logits, margins = [], [], []
        for _ in range(data.tokens):
            row = model(ids, features)[-1]
            token, margin = make_tiny_vla.greedy(row, first, last)
            tokens.append(token)
            logits.append(llava_onnx.floats(row[first: last + 1]))
            margins.append(margin)
            ids = torch.cat([ids, torch.tensor([token])])
    return tokens, logits, min(margins)


def write_parity(model, data, out, count, seed, first, last):
    """parity.json and parity/*.png: held-out rows (their images as the training set's
    resized bytes, lossless) with the PyTorch greedy tokens and logits. Rows whose greedy choice is a near-tie (margin < 1e-3,
    decided by float rounding) are skipped, as the golden vectors do."""
    model = model.to("cpu").eval()
    order = np.random.default_rng(seed).permutation(data.count)
    cases, skipped = [], 0
    for i in order:
        if len(cases) == count:
            break
        tokens, logits, margin = greedy_reference(model, data, int(i), first, last)
        if margin < MIN_MARGIN:
            skipped += 1
            continue
        r = data.rows[int(i)]
        image = f"parity/{len(cases)}.png"
        os.makedirs(os.path.join(out, "parity"), exist_ok=True)
        Image.fromarray(np.asarray(data.pixels[int(i)]), "RGB").save(os.path.join(out, image))
        cases.append({"image": image, "instruction": r["instruction"], "state": r.get("state"),
                      "episode": r["episode"],
                      "step": r["step"], "tokens": tokens, "logits": logits, "margin": margin,
                      "dataset_tokens": [int(t) for t in data.actions[int(i)]]})
    llava_onnx.write_json(os.path.join(out, "parity.json"), {
        "note": "Written by models/training/finetune_tiny_vla.py: greedy autoregressive action "
        "tokens and their action-range logits from the plain PyTorch model (full sequence, "
        "no KV cache) for held-out rows of the validation set; each image is the row's "
        "frame as the preprocessor resized and cropped it, which the runtime then only "
        "rescales and normalizes. "
        "`pons finetune brain` checks that the exported graphs reproduce them.",
        "tolerance": PARITY_TOLERANCE,
        "skipped_near_ties": skipped,
        "cases": cases,
    })
    return cases


def smooth_action_embeddings(model, first, last, seed):
    """Action ids as a smooth code of their bin. Row b of the input embeddings and of the
    output head becomes [cos(πkb/(n-1)), sin(πkb/(n-1))] for k = 1..hidden/2, turned by one
    fixed random rotation and scaled to the rows it replaces. Neighbouring bins then start out
    alike, in and out, and a bin the model reads (the joint state in its prompt) scores
    highest as the bin it writes: a bin is a quantity, not an arbitrary symbol, so copying the
    state into the chunk's first step and moving a few bins from it are near-linear maps
    rather than 256 lookups to learn."""
    embed = model.model.language_model.embed_tokens.weight
    head = model.lm_head.weight
    n, hidden = last - first + 1, embed.shape[1]
    u = torch.arange(n, dtype=torch.float64)[:, None] / (n - 1)
    k = torch.arange(1, hidden // 2 + 1, dtype=torch.float64)[None]
    code = torch.cat([torch.cos(math.pi * k * u), torch.sin(math.pi * k * u)], dim=1)
    g = torch.Generator().manual_seed(seed)
    rotation, _ = torch.linalg.qr(torch.randn(hidden, hidden, generator=g, dtype=torch.float64))
    code = code @ rotation
    with torch.no_grad():
        for weight in (embed, head):
            rows = weight[first: last + 1]
            scaled = code * (rows.double().std() / code.std())
            rows.copy_(scaled.to(rows.dtype))


class WeightAverage:
    """An exponential moving average of the parameters. Small-batch training ends wherever the
    last batches pushed it; the average sits nearer the middle of where it wandered (for
    planar-vla it narrowed the closed-loop spread between training seeds: BENCHMARKS.md). The
    decay ramps up from 0 so the early, far-off weights are forgotten."""

    def __init__(self, model, decay):
        self.decay = decay
        self.weights = [p.detach().clone() for p in model.parameters()]

    def update(self, model, step):
        d = min(self.decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for a, p in zip(self.weights, model.parameters()):
                a.mul_(d).add_(p.detach(), alpha=1 - d)

    def copy_to(self, model):
        with torch.no_grad():
            for a, p in zip(self.weights, model.parameters()):
                p.copy_(a)


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def resolve_device(name):
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: torch sees no CUDA device")
    return name


def export_package(model, base, out, manifest, training, resize=None):
    os.makedirs(out, exist_ok=True)
    shutil.rmtree(os.path.join(out, "parity"), ignore_errors=True)  # a previous run's cases
    llava_onnx.export_graphs(model, os.path.join(out, "onnx"))
    for name in COPIED:
        shutil.copyfile(os.path.join(base, name), os.path.join(out, name))
    with open(os.path.join(base, "preprocessor_config.json"), encoding="utf-8") as f:
        pre = json.load(f)
    size = model.config.vision_config.image_size
    pre["size"] = {"shortest_edge": resize or size}
    pre["crop_size"], pre["do_center_crop"] = {"height": size, "width": size}, True
    llava_onnx.write_json(os.path.join(out, "preprocessor_config.json"), pre)
    llava_onnx.write_json(os.path.join(out, "config.json"),
                          llava_onnx.llava_config(model.config))
    spec = manifest["action_spec"]
    if isinstance(spec, str) and not os.path.isabs(spec):
        spec = os.path.relpath(os.path.join(os.path.abspath(base), spec), os.path.abspath(out))
    llava_onnx.write_pons(
        os.path.join(out, "pons.json"),
        name=os.path.basename(os.path.abspath(out)),
        description=f"{manifest['name']} fine-tuned on expert demonstrations by "
        "models/training/finetune_tiny_vla.py",
        action_spec=spec,
        spec_id=manifest["spec_id"],
        tokens=manifest["action_tokens"],
        prompt_user=manifest["prompt"]["user"],
        add_special_tokens=manifest["prompt"]["add_special_tokens"],
        # Teacher forcing trains autoregressive decoding only: parallel placeholders are not.
        modes=("autoregressive",),
        default="autoregressive",
        training=training,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", required=True, help="training set directory")
    parser.add_argument("--validation", required=True, help="held-out training set directory")
    parser.add_argument("--base", required=True, help="base brain package")
    parser.add_argument("--out", required=True, help="the new package's directory")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--parity-cases", type=int, default=4)
    parser.add_argument("--data-name", default=None, help="recorded in pons.json")
    parser.add_argument("--image-size", type=int, default=None,
                        help="the new package's image size (the training set's)")
    parser.add_argument("--resize", type=int, default=None,
                        help="the shortest edge frames are resized to before the center crop "
                        "to the image size (the training set's; default no crop)")
    parser.add_argument("--first-step-weight", type=float, default=1.0,
                        help="loss weight of the chunk's first step (the arm's current pose)")
    parser.add_argument("--action-embeddings", default="keep", choices=("keep", "smooth"),
                        help="smooth: start the action ids' embeddings and output rows as a "
                        "smooth code of their bin (for a base whose action ids are untrained)")
    parser.add_argument("--grounding", default=None,
                        help="a {colour word: [r, g, b]} JSON palette: add the auxiliary "
                        "objective of grounding.py (scenes of flat block colours)")
    parser.add_argument("--grounding-weight", type=float, default=0.5,
                        help="its weight beside the action loss")
    parser.add_argument("--ema", type=float, default=0.0,
                        help="export an exponential moving average of the weights with this "
                        "decay per step (0: the last step's weights)")
    parser.add_argument("--label-sigma", type=float, default=0.0,
                        help="train on Gaussian soft targets over neighbouring bins (this "
                        "std in bins; 0: one-hot)")
    args = parser.parse_args()
    if not 0 <= args.ema < 1:
        sys.exit(f"--ema {args.ema}: the decay must be in [0, 1)")
    started = time.time()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)

    with open(os.path.join(args.base, "pons.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    config = read_config(args.base)
    model = model_for(config, seed=args.seed)
    load_package_weights(model, args.base, log)
    if args.image_size and args.image_size != config["vision_config"]["image_size"]:
        resized = model_for(config, seed=args.seed, vision={"image_size": args.image_size})
        transplant(model, resized, log)
        model = resized
    first, last = manifest["action_tokens"]["first_id"], manifest["action_tokens"]["last_id"]
    pad_id = config["text_config"].get("pad_token_id", 0)
    if args.action_embeddings == "smooth":
        smooth_action_embeddings(model, first, last, args.seed)
        log(f"action ids {first}..{last}: embeddings and output rows set to a smooth code of their bin")

    train, val = TrainingSet(args.train), TrainingSet(args.validation)
    for data in (train, val):
        if data.tokens != manifest["action_tokens"]["count"] or data.first_id != first:
            sys.exit(f"{data.dir}: action tokens {data.meta['action_tokens']} are not the "
                     f"base package's {manifest['action_tokens']}")
        size = model.config.vision_config.image_size
        if data.shape[:2] != (size, size):
            sys.exit(f"{data.dir}: images are {data.shape[1]}x{data.shape[0]}, the model "
                     f"takes {size}x{size} (--image-size)")
    log(f"{train.count} training rows, {val.count} validation rows; {args.steps} steps of "
        f"{args.batch_size} on {device} ({args.threads} threads)")

    bins = torch.arange(last - first + 1, device=device, dtype=torch.float32)

    def soft(targets, n):
        """One-hot targets, or with --label-sigma a discretized Gaussian around each target
        bin: neighbouring bins are nearly as good an action, and the gradient says so."""
        if args.label_sigma <= 0:
            return torch.nn.functional.one_hot(targets, n).float()
        w = torch.exp(-0.5 * ((bins - targets[..., None]) / args.label_sigma) ** 2)
        return w / w.sum(-1, keepdim=True)

    # The first step's tokens are where the arm is now: the only ones that must come from
    # the image alone (with teacher forcing the others mostly follow the tokens before them).
    dims = train.meta["action_dimensions"]
    token_weights = torch.ones(train.tokens, device=device)
    token_weights[:dims] = args.first_step_weight

    model = model.to(device).train()
    params = list(model.parameters())
    grounding = None
    if args.grounding:
        with open(args.grounding, encoding="utf-8") as f:
            grounding = Grounding(model, train, val, json.load(f), device)
        params += list(grounding.parameters())
        log(f"grounding objective on decoder layer {LAYER + 1}'s image positions, weight "
            f"{args.grounding_weight}")
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    average = WeightAverage(model, args.ema) if args.ema > 0 else None
    rng = np.random.default_rng(args.seed)
    val_rows = np.arange(val.count)
    initial, _, _ = evaluate(model, val, val_rows, device, args, first, last, pad_id)
    log(f"step 0/{args.steps} validation loss {initial:.4f}")
    curve, val_curve = [], [(0, initial)]
    order, at, window, t0 = rng.permutation(train.count), 0, [], time.time()
    for step in range(args.steps):
        if at + args.batch_size > len(order):
            order, at = rng.permutation(train.count), 0
        chunk = np.sort(order[at: at + args.batch_size])
        at += args.batch_size
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        ids, ends, starts, targets = train.batch(chunk, device, pad_id)
        logits = action_logits(model, train.pixel_values(chunk, device), ids, ends, starts,
                               train.tokens, first, last)
        per_token = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            soft(targets, logits.shape[-1]).reshape(-1, logits.shape[-1]),
            reduction="none").reshape(targets.shape)
        loss = (per_token * token_weights).sum(-1).mean() / token_weights.sum()
        if grounding:
            loss = loss + args.grounding_weight * grounding.loss(chunk, starts)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if average:
            average.update(model, step)
        window.append(float(loss))
        done = step + 1
        if done % 25 == 0 or done == args.steps:
            curve.append((done, sum(window) / len(window)))
            window = []
        if done % args.eval_every == 0 or done == args.steps:
            v, acc, grounded = evaluate(model, val, val_rows, device, args, first, last, pad_id,
                                        grounding)
            val_curve.append((done, v))
            rate = done * args.batch_size / (time.time() - t0)
            eta = (args.steps - done) * args.batch_size / rate
            log(f"step {done}/{args.steps} train loss {curve[-1][1]:.4f} validation loss "
                f"{v:.4f} token accuracy {acc:.3f}"
                + ("" if grounded is None else f" grounding accuracy {grounded:.3f}")
                + f" lr {group['lr']:.2e} {rate:.0f} rows/s "
                f"eta {eta:.0f} s")
    train_seconds = time.time() - t0
    if average:
        average.copy_to(model)
    final, accuracy, grounded = evaluate(model, val, val_rows, device, args, first, last,
                                         pad_id, grounding)
    if grounding:
        grounding.close()

    out = args.out
    model = model.to("cpu").eval()
    training = {
        "trained": True,
        "script": "models/training/finetune_tiny_vla.py",
        "base": os.path.relpath(os.path.abspath(args.base), os.path.abspath(out)),
        "data": args.data_name or os.path.abspath(args.train),
        "rows": train.count,
        "validation_rows": val.count,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "label_sigma": args.label_sigma,
        "ema": args.ema,
        "grounding_weight": args.grounding_weight if grounding else 0,
        "validation_grounding_accuracy": None if grounded is None else round(grounded, 4),
        "action_embeddings": args.action_embeddings,
        "first_step_weight": args.first_step_weight,
        "image_size": model.config.vision_config.image_size,
        "resize": args.resize or model.config.vision_config.image_size,
        "device": device,
        "initial_validation_loss": round(initial, 5),
        "final_train_loss": round(curve[-1][1], 5) if curve else None,
        "final_validation_loss": round(final, 5),
        "validation_token_accuracy": round(accuracy, 4),
        "train_seconds": round(train_seconds, 1),
    }
    export_package(model, args.base, out, manifest, training, args.resize)
    os.makedirs(os.path.join(out, "training"), exist_ok=True)
    llava_onnx.write_json(os.path.join(out, "training", "loss.json"),
                          {"train": curve, "validation": val_curve})
    write_loss_png(os.path.join(out, "training", "loss.png"),
                   {"train objective (25-step mean)": curve, "validation cross-entropy": val_curve},
                   f"{os.path.basename(os.path.abspath(out))}: action-token loss, {train.count} rows, "
                   f"batch {args.batch_size}, {device}")
    cases = write_parity(model, val, out, args.parity_cases, args.seed, first, last)
    log(f"exported {out}: validation loss {initial:.4f} -> {final:.4f}, token accuracy "
        f"{accuracy:.3f}; {len(cases)} parity cases; training {train_seconds:.0f} s, total "
        f"{time.time() - started:.0f} s")
    print(json.dumps({"event": "done", "out": out, **training}), flush=True)


if __name__ == "__main__":
    main()
