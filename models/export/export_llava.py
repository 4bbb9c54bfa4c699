#!/usr/bin/python3
"""Exports a Hugging Face LLaVA checkpoint (e.g. PKU-Alignment/Align-DS-V) to a pons brain package.

The package format is docs/model-package.md; the graphs are written by llava_onnx.py (next to
this file). From `--checkpoint` (a local Hugging Face directory, or a Hub id) this writes into
`--out`:

  onnx/{vision_encoder,embed_tokens,decoder_model_merged}{suffix}.onnx
                               suffix "" for --dtype fp32, "_fp16" for fp16 (transformers.js
                               names); graphs over 1 GiB keep their weights in `<file>_data`
  config.json                  the LLaVA config keys (llava_onnx.llava_config)
  tokenizer.json, tokenizer_config.json
                               copied; a chat template kept in chat_template.jinja or
                               chat_template.json is copied too and merged into
                               tokenizer_config.json's `chat_template` when that lacks one
  preprocessor_config.json     copied
  pons.json                    bound to --action-spec: the action ids are the spec tokenizer's
                               (last_id = vocab_size - id_offset - 1, first_id = last_id - bins
                               + 1); refused when they fall outside the model's vocabulary

With --verify-generate it instead builds a tiny RANDOM LlavaForConditionalGeneration (a small
CLIP vision tower and Llama decoder, seeded, the tiny-vla tokenizer and processor), exports it
the same way, and writes `expected.json`: the prompt's input ids, the image (a PNG it saves),
and the tokens of transformers' greedy `generate()` restricted to the action id range, so the
TypeScript runtime can be compared with transformers token for token.

Needs Hugging Face transformers (>= 4.45) with PyTorch; it is imported only when run. Run from
the repository root:

    npm run build && python3 models/export/export_llava.py \\
        --checkpoint PKU-Alignment/Align-DS-V \\
        --action-spec calibration/<robot>/action_spec.yaml --out models/align-ds-v
    npm run build && python3 models/export/export_llava.py --verify-generate \\
        --action-spec calibration/planar-arm/action_spec.yaml --out /tmp/verify-llava

The spec id is computed by the TypeScript contract (`dist/contract/index.js`, hence
`npm run build`); pass `--spec-id` to skip Node.
"""

import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

TRANSFORMERS_MISSING = (
    "export_llava.py needs Hugging Face transformers (>= 4.45) with PyTorch: "
    "pip install 'transformers>=4.45' torch onnx pillow"
)
DEFAULT_PROMPT = "<image>\nWhat action should the robot take to {instruction}?"
TOKENIZER_NAMES = {"bos_token", "eos_token", "pad_token", "unk_token"}


def require_transformers():
    try:
        import transformers  # noqa: F401
    except ImportError:
        sys.exit(TRANSFORMERS_MISSING)
    return transformers


def checkpoint_dir(checkpoint):
    """A local directory for a checkpoint path or Hub id."""
    if os.path.isdir(checkpoint):
        return checkpoint
    from huggingface_hub import snapshot_download  # a transformers dependency

    return snapshot_download(checkpoint)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def copy_tokenizer(src, out):
    """tokenizer.json, tokenizer_config.json (with `chat_template`), chat_template.*,
    preprocessor_config.json; returns the tokenizer.json dict."""
    os.makedirs(out, exist_ok=True)
    if os.path.exists(os.path.join(src, "tokenizer.json")):
        shutil.copyfile(os.path.join(src, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    else:  # a slow-tokenizer checkpoint: transformers converts it
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(src)
        if not tok.is_fast:
            sys.exit(f"{src}: no tokenizer.json and no fast tokenizer to convert")
        tok.backend_tokenizer.save(os.path.join(out, "tokenizer.json"))
    config_path = os.path.join(src, "tokenizer_config.json")
    if not os.path.exists(config_path):
        sys.exit(f"{config_path} is missing")
    config = read_json(config_path)
    template = config.get("chat_template")
    for name in ("chat_template.jinja", "chat_template.json"):
        path = os.path.join(src, name)
        if os.path.exists(path):
            shutil.copyfile(path, os.path.join(out, name))
            if not template:
                if name.endswith(".json"):
                    template = read_json(path)["chat_template"]
                else:
                    with open(path, encoding="utf-8") as f:
                        template = f.read()
    if not template:
        sys.exit(f"{src}: no chat template (tokenizer_config.json, chat_template.jinja/.json)")
    config["chat_template"] = template
    for key in TOKENIZER_NAMES:  # AddedToken dicts of old configs -> their strings
        if isinstance(config.get(key), dict) and "content" in config[key]:
            config[key] = config[key]["content"]
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)
        f.write("\n")
    pre = os.path.join(src, "preprocessor_config.json")
    if not os.path.exists(pre):
        sys.exit(f"{pre} is missing")
    shutil.copyfile(pre, os.path.join(out, "preprocessor_config.json"))
    return read_json(os.path.join(out, "tokenizer.json"))


def token_content(tokenizer_json, token_id):
    for t in tokenizer_json.get("added_tokens", []):
        if t["id"] == token_id:
            return t["content"]
    for content, i in tokenizer_json.get("model", {}).get("vocab", {}).items():
        if i == token_id:
            return content
    return None


def write_package(model, out, spec, args, tokenizer_src, training, description):
    """The package from a loaded model: graphs, config.json, tokenizer files, pons.json."""
    import torch

    import llava_onnx

    layout = llava_onnx.resolve_layout(model)
    dims = llava_onnx.text_dims(llava_onnx.cfg(layout.config, "text_config"))
    count = spec["horizon"] * spec["dimensions"]
    try:
        tokens = llava_onnx.action_tokens(spec["tokenizer"], count, dims.vocab)
    except ValueError as e:
        sys.exit(str(e))
    if int(spec["tokenizer"]["vocab_size"]) != dims.vocab:
        print(f"warning: the ActionSpec's tokenizer vocab_size {spec['tokenizer']['vocab_size']} "
              f"is not the model's {dims.vocab}", file=sys.stderr)
    tokenizer_json = copy_tokenizer(tokenizer_src, out)
    image_id = llava_onnx.image_token_index(layout.config)
    image_token = token_content(tokenizer_json, image_id)
    if image_token is None or image_token not in args.instruction_template:
        sys.exit(f"the prompt {args.instruction_template!r} does not contain the image token "
                 f"{image_token!r} (id {image_id})")
    placeholder = None
    if args.placeholder_token:
        ids = [t["id"] for t in tokenizer_json["added_tokens"]
               if t["content"] == args.placeholder_token]
        if not ids:
            sys.exit(f"{args.placeholder_token!r} is not an added token of the tokenizer")
        placeholder = ids[0]
    dtype = torch.float16 if args.dtype == "fp16" else torch.float32
    device = next(model.parameters()).device
    paths = llava_onnx.export_graphs(model, os.path.join(out, "onnx"),
                                     suffix="_fp16" if args.dtype == "fp16" else "",
                                     dtype=dtype, device=device)
    llava_onnx.write_json(os.path.join(out, "config.json"),
                          llava_onnx.llava_config(layout.config, str(dtype).split(".")[-1]))
    spec_path = os.path.abspath(args.action_spec)
    llava_onnx.write_pons(
        os.path.join(out, "pons.json"),
        name=os.path.basename(os.path.abspath(out)),
        description=description,
        action_spec=os.path.relpath(spec_path, os.path.abspath(out)),
        spec_id=spec["id"],
        tokens=tokens,
        prompt_user=args.instruction_template,
        add_special_tokens=args.add_special_tokens,
        modes=("autoregressive", "parallel") if placeholder is not None else ("autoregressive",),
        placeholder_id=placeholder,
        training=training,
    )
    for path in paths.values():
        data = path + "_data"
        size = os.path.getsize(path) + (os.path.getsize(data) if os.path.exists(data) else 0)
        print(f"{path}: {size} bytes")
    return tokens


def export_checkpoint(args):
    import torch
    from transformers import LlavaForConditionalGeneration

    src = checkpoint_dir(args.checkpoint)
    spec = load_spec(args)
    dtype = torch.float16 if args.dtype == "fp16" else torch.float32
    model = LlavaForConditionalGeneration.from_pretrained(
        src, torch_dtype=dtype, attn_implementation="eager", low_cpu_mem_usage=True
    )
    if args.dtype == "fp16" and torch.cuda.is_available():
        model = model.to("cuda")
    model.eval()
    write_package(
        model, args.out, spec, args, src,
        training={"trained": args.trained, "script": "models/export/export_llava.py",
                  "checkpoint": args.checkpoint, "dtype": args.dtype},
        description=args.description or f"{args.checkpoint}, exported by "
        "models/export/export_llava.py",
    )


def verify_generate(args):
    """A tiny random LLaVA through transformers' generate() and through the export."""
    import torch
    from PIL import Image
    from transformers import (
        AutoTokenizer,
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LogitsProcessor,
        LogitsProcessorList,
    )

    sys.path.insert(0, os.path.join(REPO, "models", "training"))
    import llava_onnx
    import make_tiny_vla as tiny

    spec = load_spec(args)
    tiny_dir = os.path.join(REPO, "models", "tiny-vla")
    torch.manual_seed(args.seed)
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(image_size=336, patch_size=28, hidden_size=64,
                                       intermediate_size=128, num_hidden_layers=2,
                                       num_attention_heads=4, projection_dim=64).to_dict(),
        text_config=LlamaConfig(**{**tiny.TEXT, "hidden_size": 64, "intermediate_size": 128,
                                   "num_hidden_layers": 2, "head_dim": 16}).to_dict(),
        image_token_index=5,
        projector_hidden_act="gelu",
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
        image_seq_length=144,
    )
    for c in (config, config.text_config, config.vision_config):
        c._attn_implementation = "eager"  # plain math, also in the traced CLIP tower
    model = LlavaForConditionalGeneration(config).eval()
    tiny.init_weights(model, args.seed)  # clear logit margins, unlike the 0.02-std default
    out = args.out
    args.instruction_template = args.instruction_template or DEFAULT_PROMPT
    tokens = write_package(
        model, out, spec, args, tiny_dir,
        training={"trained": False, "script": "models/export/export_llava.py --verify-generate",
                  "seed": args.seed},
        description="A tiny random LlavaForConditionalGeneration for comparing the runtime "
        "with transformers' generate() (expected.json).",
    )
    first, last, count = tokens["first_id"], tokens["last_id"], tokens["count"]

    rgb = tiny.tabletop(336, tiny.GOLDEN_SCENES["push-blue-left"], tint=5)
    tiny.save_png(os.path.join(out, "verify.png"), rgb)
    tokenizer = AutoTokenizer.from_pretrained(out)
    instruction = "push the blue block to the left zone"
    content = args.instruction_template.replace("{instruction}", instruction)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": content}],
                                           add_generation_prompt=True, tokenize=False)
    ids = tokenizer(prompt, add_special_tokens=args.add_special_tokens).input_ids
    processor = CLIPImageProcessor.from_pretrained(out)
    pixel_values = processor(images=Image.open(os.path.join(out, "verify.png")),
                             return_tensors="pt").pixel_values
    expanded = tiny.expand_image_tokens(ids, config.image_token_index,
                                        llava_onnx.image_seq_length(config))
    # Cross-checks of make_tiny_vla's own tokenizer and processor math against transformers'.
    own_ids = tiny.build_tokenizer()[0].encode(prompt)
    pixel_error = float((tiny.pixel_values(rgb) - pixel_values).abs().max())
    print(f"make_tiny_vla tokenizer {'matches' if own_ids == ids else 'DIFFERS from'} "
          f"transformers; pixel_values differ by {pixel_error:.2e}")

    class ActionRange(LogitsProcessor):
        def __call__(self, input_ids, scores):
            masked = torch.full_like(scores, float("-inf"))
            masked[:, first: last + 1] = scores[:, first: last + 1]
            return masked

    with torch.no_grad():
        result = model.generate(
            input_ids=torch.tensor([expanded]),
            attention_mask=torch.ones(1, len(expanded), dtype=torch.long),
            pixel_values=pixel_values,
            max_new_tokens=count,
            min_new_tokens=count,
            do_sample=False,
            num_beams=1,
            logits_processor=LogitsProcessorList([ActionRange()]),
            output_scores=True,
            return_dict_in_generate=True,
            pad_token_id=config.text_config.pad_token_id,
        )
    generated = result.sequences[0, len(expanded):].tolist()
    margins = [float(torch.topk(s[0], 2).values.diff().abs()) for s in result.scores]
    import transformers

    llava_onnx.write_json(os.path.join(out, "expected.json"), {
        "note": "Written by models/export/export_llava.py --verify-generate: transformers' "
        "greedy generate() of this random model, restricted to the action ids.",
        "transformers": transformers.__version__,
        "torch": torch.__version__.split("+")[0],
        "seed": args.seed,
        "image": "verify.png",
        "instruction": instruction,
        "prompt_text": prompt,
        "input_ids": ids,
        "tokens": generated,
        "min_margin": min(margins),
        "python_tokenizer_matches": own_ids == ids,
        "pixel_values_max_difference": pixel_error,
    })
    print(f"expected.json: {len(generated)} tokens, minimum margin {min(margins):.6f}")
    if min(margins) < 1e-3:
        print("warning: a greedy step is decided by less than 1e-3", file=sys.stderr)


def load_spec(args):
    import llava_onnx

    return llava_onnx.load_spec(args.action_spec, args.spec_id)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", help="Hugging Face LLaVA directory or Hub id")
    parser.add_argument("--action-spec", required=True, help="the ActionSpec YAML to bind to")
    parser.add_argument("--out", required=True, help="the package directory, e.g. models/<name>")
    parser.add_argument("--dtype", choices=("fp32", "fp16"), default="fp32")
    parser.add_argument("--instruction-template", default=None,
                        help=f"pons.json prompt.user (default {DEFAULT_PROMPT!r})")
    parser.add_argument("--add-special-tokens", action="store_true",
                        help="pons.json prompt.add_special_tokens (default false)")
    parser.add_argument("--placeholder-token",
                        help="an added token to declare parallel decoding with (OFT-style "
                        "checkpoints only)")
    parser.add_argument("--trained", action="store_true",
                        help="the checkpoint was trained on this ActionSpec's tokens")
    parser.add_argument("--description")
    parser.add_argument("--spec-id", help="skip Node: the ActionSpec id to bind the package to")
    parser.add_argument("--verify-generate", action="store_true",
                        help="export a tiny random model and write expected.json")
    parser.add_argument("--seed", type=int, default=0, help="with --verify-generate")
    args = parser.parse_args(argv)
    if not args.verify_generate and not args.checkpoint:
        parser.error("--checkpoint is required (or --verify-generate)")
    require_transformers()
    if args.verify_generate:
        verify_generate(args)
    else:
        args.instruction_template = args.instruction_template or DEFAULT_PROMPT
        export_checkpoint(args)


if __name__ == "__main__":
    main()
