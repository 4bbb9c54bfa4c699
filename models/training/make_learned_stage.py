#!/usr/bin/python3
"""Builds the (untrained) learned cerebellum stage package and its test fixtures.

A learned stage is an ONNX policy that maps (joint state, the next K chunk targets) to a
joint-position correction; src/cerebellum/learned-stage.ts runs it. The package format
(`model.onnx` + `pons.json`) is documented in models/learned-cerebellum/README.md.

This script writes, deterministically (seeded; the same bytes on every run):

  models/learned-cerebellum/model.onnx    a small MLP, opset 17, untrained: its last layer is
                                          scaled so corrections are about 1e-3 rad
  models/learned-cerebellum/pons.json     the package's contract, bound to the ActionSpec id
  models/learned-cerebellum/golden.json   inputs -> corrections computed by PyTorch, which the
                                          TypeScript runtime must reproduce within 1e-5 rad
  test/fixtures/learned-stage/wrong-input-name/{model.onnx,pons.json}
                                          a model whose first input is not the declared name
  test/fixtures/learned-stage/nan-output/{model.onnx,pons.json}
                                          a model whose correction is always NaN (log of -1)

The fine-tuning issue trains the same architecture from recorded data and reuses
`CorrectionMLP`, `export_onnx`, `write_manifest` and `write_golden` from here.

Run with Debian's interpreter (python3-torch, python3-onnx), from the repository root:

    npm run build && /usr/bin/python3 models/training/make_learned_stage.py

The spec id and the joint names are read from the ActionSpec through the TypeScript contract
(`dist/contract/index.js`, hence `npm run build`), so the hash is computed by the one
implementation that checks it. Pass `--spec-id` (and `--joints`) to skip Node.
"""

import argparse
import json
import os
import re
import sys

import onnx
import torch
from torch import nn


OPSET = 17
KIND = "cerebellum-correction"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "models", "export"))
import llava_onnx  # noqa: E402  (the contract's spec, read through Node)

# The tensor names of the package contract; pons.json declares them, the runtime checks them.
JOINT_STATE = "joint_state"
TARGETS = "targets"
CORRECTION = "correction"


class CorrectionMLP(nn.Module):
    """(joint_state [1, 2J], targets [1, K*J]) -> correction [1, J], in normalized units.

    The runtime normalizes the inputs and de-normalizes the output with the statistics in
    pons.json, so the network sees values of order one.
    """

    def __init__(self, joints, lookahead, hidden=64, output_gain=1.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 * joints + lookahead * joints, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, joints),
        )
        with torch.no_grad():
            last = self.net[-1]
            last.weight.mul_(output_gain)
            last.bias.mul_(output_gain)

    def forward(self, joint_state, targets):
        return self.net(torch.cat([joint_state, targets], dim=1))


class WrongInputName(nn.Module):
    """Correct shapes, but the model calls its first input `state`: pons.json says otherwise."""

    def __init__(self, joints):
        super().__init__()
        self.joints = joints

    def forward(self, state, targets):
        return state[:, : self.joints] * 0.0 + targets[:, : self.joints] * 0.0


class NanOutput(nn.Module):
    """Correct contract, but the correction is log(-(1 + x²)): NaN for every input."""

    def __init__(self, joints):
        super().__init__()
        self.joints = joints

    def forward(self, joint_state, targets):
        x = joint_state[:, : self.joints] + targets[:, : self.joints]
        return torch.log(-(x * x) - 1.0)


def export_onnx(model, path, joints, lookahead, input_names=(JOINT_STATE, TARGETS)):
    """Exports with a fixed batch of one (the runtime runs one state at a time), opset 17."""
    model.eval()
    example = (torch.zeros(1, 2 * joints), torch.zeros(1, lookahead * joints))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(
        model,
        example,
        path,
        input_names=list(input_names),
        output_names=[CORRECTION],
        opset_version=OPSET,
        do_constant_folding=True,
    )
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    # Exporter details that vary between torch versions stay out of the committed bytes.
    proto.producer_name = "pons models/training"
    proto.producer_version = ""
    proto.doc_string = "pons learned cerebellum stage: (joint_state, targets) -> correction"
    onnx.save(proto, path)


def default_normalization(action_std, joints, lookahead, velocity_std=1.0, correction_std=0.01):
    """Statistics for an untrained package: positions and targets scaled by the ActionSpec's
    action std, velocities by `velocity_std` rad/s, the output by `correction_std` rad.
    A trained package replaces them with the statistics of its training data."""
    return {
        "joint_state": {
            "mean": [0.0] * (2 * joints),
            "std": list(action_std) + [velocity_std] * joints,
        },
        "targets": {"mean": [0.0] * (lookahead * joints), "std": list(action_std) * lookahead},
        "correction": {"mean": [0.0] * joints, "std": [correction_std] * joints},
    }


def write_manifest(path, spec_id, joint_names, lookahead, max_correction, normalization=None,
                   input_names=(JOINT_STATE, TARGETS), training=None, description=None):
    j = len(joint_names)
    manifest = {
        "kind": KIND,
        "name": os.path.basename(os.path.dirname(os.path.abspath(path))),
        "description": description,
        "spec_id": spec_id,
        "joints": list(joint_names),
        "lookahead": lookahead,
        "inputs": {
            "joint_state": {"name": input_names[0], "shape": [1, 2 * j]},
            "targets": {"name": input_names[1], "shape": [1, lookahead * j]},
        },
        "outputs": {"correction": {"name": CORRECTION, "shape": [1, j]}},
        "max_correction": max_correction,
    }
    if description is None:
        del manifest["description"]
    if normalization is not None:
        manifest["normalization"] = normalization
    if training is not None:
        manifest["training"] = training
    write_json(path, manifest)
    return manifest


def apply_normalized(model, normalization, joint_state, targets):
    """What the runtime computes: normalize, run, de-normalize (float32 throughout)."""

    def norm(x, stats):
        if stats is None:
            return x
        return (x - torch.tensor(stats["mean"])) / torch.tensor(stats["std"])

    n = normalization or {}
    with torch.no_grad():
        y = model(norm(joint_state, n.get("joint_state")), norm(targets, n.get("targets")))
    out = n.get("correction")
    if out is not None:
        y = y * torch.tensor(out["std"]) + torch.tensor(out["mean"])
    return y


def golden_inputs(joint_names, lookahead, limit, seed, count):
    """Hand-picked and random states inside the joint limits, with targets that continue
    from the position the way a chunk does (a few steps of a smooth motion)."""
    j = len(joint_names)
    g = torch.Generator().manual_seed(seed)
    idx = torch.arange(j, dtype=torch.float32)
    moving = 0.5 * torch.cos(idx * 2.0)  # 0.5, -0.21, -0.33, ...
    direction = torch.cos(idx * 1.3)
    near = torch.where(idx % 2 == 0, torch.tensor(0.97), torch.tensor(-0.97)) * limit
    cases = [
        ("rest", torch.zeros(j), torch.zeros(j), torch.zeros(lookahead, j)),
        (
            "moving",
            moving,
            0.4 * direction,
            moving + 0.04 * torch.arange(1, lookahead + 1)[:, None] * direction,
        ),
        ("near-limits", near, -0.6 * near, near.repeat(lookahead, 1)),
    ]
    for i in range(count - len(cases)):
        position = (torch.rand(j, generator=g) * 2 - 1) * limit * 0.9
        velocity = (torch.rand(j, generator=g) * 2 - 1) * 1.5
        steps = torch.cumsum((torch.rand(lookahead, j, generator=g) * 2 - 1) * 0.1, dim=0)
        cases.append((f"random-{i}", position, velocity, position + steps))
    out = []
    for name, position, velocity, targets in cases:
        out.append(
            (
                name,
                position.to(torch.float32),
                velocity.to(torch.float32),
                targets.reshape(-1).to(torch.float32),
            )
        )
    return out


def write_golden(path, model, normalization, cases, note):
    rows = []
    for name, position, velocity, targets in cases:
        joint_state = torch.cat([position, velocity])[None, :]
        y = apply_normalized(model, normalization, joint_state, targets[None, :])[0]
        rows.append(
            {
                "name": name,
                "position": floats(position),
                "velocity": floats(velocity),
                "targets": floats(targets),
                "correction": floats(y),
            }
        )
    write_json(path, {"note": note, "tolerance": 1e-5, "cases": rows})


def floats(t):
    # float32 values are exact in a double; Python's repr round-trips them exactly.
    return [float(v) for v in t.detach().to(torch.float32).tolist()]


def write_json(path, value):
    """Indented JSON with each list of numbers or strings on one line."""
    text = json.dumps(value, indent=2)
    text = re.sub(
        r"\[\s*([^\[\]{}]*?)\s*\]",
        lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]",
        text,
    )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def spec_from_node(spec_path):
    """Spec id, joint-position dimension names and action std, by the TypeScript contract."""
    spec = llava_onnx.contract_spec(spec_path)
    return {
        "id": spec["id"],
        "joints": [d["name"] for d in spec["dimensions"] if d["kind"] == "joint_position"],
        "std": spec["statistics"]["std"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--spec", default=os.path.join(REPO, "calibration", "planar-arm", "action_spec.yaml")
    )
    parser.add_argument("--spec-id", help="skip Node: the ActionSpec id to bind the package to")
    parser.add_argument(
        "--joints",
        default="shoulder_joint,elbow_joint,wrist_joint",
        help="with --spec-id: comma-separated joint names (default: the planar arm's)",
    )
    parser.add_argument(
        "--position-std",
        type=float,
        default=1.5011106998930268,
        help="with --spec-id: the action std used to scale positions (default: the planar arm's)",
    )
    parser.add_argument("--lookahead", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-correction", type=float, default=0.02, help="rad, per joint")
    parser.add_argument("--out", default=os.path.join(REPO, "models", "learned-cerebellum"))
    parser.add_argument(
        "--fixtures", default=os.path.join(REPO, "test", "fixtures", "learned-stage")
    )
    args = parser.parse_args()

    if args.spec_id:
        joint_names = args.joints.split(",")
        spec = {
            "id": args.spec_id,
            "joints": joint_names,
            "std": [args.position_std] * len(joint_names),
        }
    else:
        spec = spec_from_node(os.path.abspath(args.spec))
    joint_names, spec_id, k = spec["joints"], spec["id"], args.lookahead
    j = len(joint_names)
    action_std = [float(s) for s in spec["std"][:j]]

    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    # Untrained: output ~0.1 in normalized units, x 0.01 rad correction std = ~1e-3 rad.
    model = CorrectionMLP(j, k, hidden=64, output_gain=0.5)
    normalization = default_normalization(action_std, j, k)
    training = {
        "trained": False,
        "script": "models/training/make_learned_stage.py",
        "seed": args.seed,
        "torch": torch.__version__.split("+")[0],
        "opset": OPSET,
    }
    export_onnx(model, os.path.join(args.out, "model.onnx"), j, k)
    write_manifest(
        os.path.join(args.out, "pons.json"),
        spec_id,
        joint_names,
        k,
        args.max_correction,
        normalization,
        training=training,
        description="Untrained placeholder (corrections of about 1e-3 rad) until "
        "`pons finetune cerebellum` trains it from recorded episodes.",
    )
    cases = golden_inputs(joint_names, k, 2.6, args.seed + 1, 8)
    write_golden(
        os.path.join(args.out, "golden.json"),
        model,
        normalization,
        cases,
        "Written by models/training/make_learned_stage.py: PyTorch corrections (rad, after "
        "the pons.json normalization, before clamping) for these float32 inputs.",
    )

    fixture_training = {"trained": False, "script": "models/training/make_learned_stage.py"}
    wrong = os.path.join(args.fixtures, "wrong-input-name")
    export_onnx(WrongInputName(j), os.path.join(wrong, "model.onnx"), j, k,
                input_names=("state", TARGETS))
    write_manifest(os.path.join(wrong, "pons.json"), spec_id, joint_names, k,
                   args.max_correction, training=fixture_training,
                   description="Test fixture: the model's first input is `state`, not "
                   "`joint_state` as declared.")
    nan = os.path.join(args.fixtures, "nan-output")
    export_onnx(NanOutput(j), os.path.join(nan, "model.onnx"), j, k)
    write_manifest(os.path.join(nan, "pons.json"), spec_id, joint_names, k, args.max_correction,
                   training=fixture_training,
                   description="Test fixture: the correction is log(-(1 + x^2)), NaN always.")

    for path in (os.path.join(args.out, "model.onnx"), os.path.join(wrong, "model.onnx"),
                 os.path.join(nan, "model.onnx")):
        print(f"{os.path.relpath(path, REPO)}: {os.path.getsize(path)} bytes")
    print(f"spec_id {spec_id}")


if __name__ == "__main__":
    main()
