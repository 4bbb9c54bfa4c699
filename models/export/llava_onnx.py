"""Exports a LLaVA-architecture model (Llama language model) to the pons brain package split.

The package format is docs/model-package.md. This module writes, from any PyTorch module tree
with the Hugging Face LLaVA/Llama attribute names (a real `LlavaForConditionalGeneration`, old or
new transformers layout, or the bundled tiny model of models/training/make_tiny_vla.py):

  onnx/vision_encoder{suffix}.onnx        pixel_values -> image_features
                                          (vision tower hidden state, feature select, projector)
  onnx/embed_tokens{suffix}.onnx          input_ids -> inputs_embeds
  onnx/decoder_model_merged{suffix}.onnx  inputs_embeds, attention_mask, position_ids,
                                          past_key_values.{i}.key|value
                                          -> logits, present.{i}.key|value
  config.json                             the LLaVA config keys the runtime reads
  pons.json                               the ActionSpec binding (`write_pons`)

The decoder is written here with its own attention math over the Llama-layout weights (RMSNorm,
RoPE with `rope_theta` and `llama3` scaling, GQA, SwiGLU), so a tiny model and a real Llama
export the same graph; it does not depend on the transformers version's attention code. It is
traced with a non-empty past and dynamic axes, so the runtime's first call (past length 0) and
every cached step run the same graph.

Used by models/export/export_llava.py (real checkpoints) and models/training/make_tiny_vla.py.
Needs Debian's python3-torch and python3-onnx; not transformers.
"""

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import warnings
from types import SimpleNamespace

import onnx
import torch
from torch import nn

OPSET = 17
GRAPHS = ("vision_encoder", "embed_tokens", "decoder_model_merged")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A protobuf file cannot exceed 2 GiB; larger graphs keep their weights in `<file>_data`.
EXTERNAL_DATA_BYTES = 1 << 30


# --------------------------------------------------------------------------------------------
# Layout and configuration


def cfg(obj, key, default=None):
    """A config value from a transformers config object or a plain dict."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        value = obj.get(key, default)
    else:
        value = getattr(obj, key, default)
    return default if value is None else value


def resolve_layout(model):
    """The parts of a LLaVA model, from either Hugging Face module layout.

    new transformers (>= 4.52): model.model.{vision_tower, multi_modal_projector,
                                language_model (the LlamaModel)}, model.lm_head
    old transformers:           model.{vision_tower, multi_modal_projector},
                                model.language_model.{model (the LlamaModel), lm_head}
    """
    inner = getattr(model, "model", None)
    if inner is not None and hasattr(inner, "vision_tower") and hasattr(inner, "language_model"):
        vision, projector, language = (
            inner.vision_tower,
            inner.multi_modal_projector,
            inner.language_model,
        )
        lm_head = getattr(model, "lm_head", None)
        if lm_head is None:
            lm_head = getattr(language, "lm_head", None)
        kind = "new"
    elif hasattr(model, "vision_tower") and hasattr(model, "language_model"):
        vision, projector, language = (
            model.vision_tower,
            model.multi_modal_projector,
            model.language_model,
        )
        lm_head = getattr(language, "lm_head", None)
        if lm_head is None:
            lm_head = getattr(model, "lm_head", None)
        kind = "old"
    else:
        raise ValueError(
            "not a LLaVA module tree: expected model.model.{vision_tower, language_model} "
            "or model.{vision_tower, language_model}"
        )
    # A causal-LM wrapper (old layout, or a new one holding LlamaForCausalLM): unwrap it.
    if not hasattr(language, "layers") and hasattr(language, "model"):
        language = language.model
    for name in ("embed_tokens", "layers", "norm"):
        if not hasattr(language, name):
            raise ValueError(f"the language model has no `{name}`: not a Llama layout")
    if lm_head is None:
        raise ValueError("no lm_head found (model.lm_head or model.language_model.lm_head)")
    config = getattr(model, "config", None)
    if config is None or cfg(config, "text_config") is None:
        raise ValueError("the model has no config with text_config and vision_config")
    return SimpleNamespace(
        kind=kind,
        vision_tower=vision,
        projector=projector,
        language_model=language,
        embed_tokens=language.embed_tokens,
        lm_head=lm_head,
        config=config,
    )


def rope_settings(text_config):
    """(rope_theta, rope_scaling dict with `rope_type`, or None) from a Llama text config.

    Reads `rope_theta` / `rope_scaling` (transformers 4.x) or `rope_parameters` (5.x)."""
    params = cfg(text_config, "rope_parameters")
    scaling = cfg(text_config, "rope_scaling")
    theta = cfg(text_config, "rope_theta")
    if params:
        params = dict(params)
        theta = params.get("rope_theta", theta)
        if scaling is None and params.get("rope_type", params.get("type", "default")) != "default":
            scaling = params
    if theta is None:
        theta = 10000.0
    if scaling:
        scaling = dict(scaling)
        scaling["rope_type"] = scaling.get("rope_type", scaling.get("type", "default"))
        scaling.pop("type", None)
        scaling.pop("rope_theta", None)
        if scaling["rope_type"] == "default":
            scaling = None
    return float(theta), scaling or None


def text_dims(text_config):
    """The Llama dimensions the decoder needs, with Hugging Face's defaults."""
    hidden = int(cfg(text_config, "hidden_size"))
    heads = int(cfg(text_config, "num_attention_heads"))
    theta, scaling = rope_settings(text_config)
    return SimpleNamespace(
        hidden=hidden,
        heads=heads,
        kv_heads=int(cfg(text_config, "num_key_value_heads", heads)),
        head_dim=int(cfg(text_config, "head_dim", hidden // heads)),
        layers=int(cfg(text_config, "num_hidden_layers")),
        vocab=int(cfg(text_config, "vocab_size")),
        intermediate=int(cfg(text_config, "intermediate_size")),
        eps=float(cfg(text_config, "rms_norm_eps", 1e-6)),
        theta=theta,
        rope_scaling=scaling,
        act=cfg(text_config, "hidden_act", "silu"),
        max_positions=int(cfg(text_config, "max_position_embeddings", 2048)),
    )


def image_token_index(config):
    value = cfg(config, "image_token_index", cfg(config, "image_token_id"))
    if value is None:
        raise ValueError("config has neither image_token_index nor image_token_id")
    return int(value)


def image_seq_length(config):
    vision = cfg(config, "vision_config")
    side = int(cfg(vision, "image_size")) // int(cfg(vision, "patch_size"))
    full = cfg(config, "vision_feature_select_strategy", "default") == "full"
    return side * side + (1 if full else 0)


def llava_config(config, torch_dtype="float32"):
    """config.json: the LLaVA keys (Hugging Face names) the runtime and tools read."""
    text, vision = cfg(config, "text_config"), cfg(config, "vision_config")
    dims = text_dims(text)
    text_out = {
        "model_type": "llama",
        "hidden_size": dims.hidden,
        "intermediate_size": dims.intermediate,
        "num_hidden_layers": dims.layers,
        "num_attention_heads": dims.heads,
        "num_key_value_heads": dims.kv_heads,
        "head_dim": dims.head_dim,
        "vocab_size": dims.vocab,
        "hidden_act": dims.act,
        "rms_norm_eps": dims.eps,
        "rope_theta": dims.theta,
        "rope_scaling": dims.rope_scaling,
        "max_position_embeddings": dims.max_positions,
        "tie_word_embeddings": bool(cfg(text, "tie_word_embeddings", False)),
    }
    for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
        if cfg(text, key) is not None:
            text_out[key] = cfg(text, key)
    vision_out = {"model_type": cfg(vision, "model_type", "clip_vision_model")}
    for key in (
        "image_size",
        "patch_size",
        "hidden_size",
        "intermediate_size",
        "num_hidden_layers",
        "num_attention_heads",
        "num_channels",
        "hidden_act",
        "layer_norm_eps",
        "projection_dim",
    ):
        if cfg(vision, key) is not None:
            vision_out[key] = cfg(vision, key)
    layer = cfg(config, "vision_feature_layer", -2)
    return {
        "architectures": ["LlavaForConditionalGeneration"],
        "model_type": "llava",
        "image_token_index": image_token_index(config),
        "projector_hidden_act": cfg(config, "projector_hidden_act", "gelu"),
        "vision_feature_layer": list(layer) if isinstance(layer, (list, tuple)) else int(layer),
        "vision_feature_select_strategy": cfg(config, "vision_feature_select_strategy", "default"),
        "image_seq_length": image_seq_length(config),
        "torch_dtype": torch_dtype,
        "text_config": text_out,
        "vision_config": vision_out,
    }


# --------------------------------------------------------------------------------------------
# Rotary embeddings


def rope_inv_freq(head_dim, theta, scaling=None):
    """(inv_freq float32 [head_dim / 2], attention scaling), computed the way transformers'
    `ROPE_INIT_FUNCTIONS` do (default, `linear`, `llama3`), in float32."""
    inv_freq = 1.0 / (
        theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).to(torch.float32) / head_dim)
    )
    if not scaling:
        return inv_freq, 1.0
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "default":
        return inv_freq, 1.0
    if kind == "linear":
        return inv_freq / float(scaling["factor"]), 1.0
    if kind == "llama3":
        factor = float(scaling["factor"])
        low_freq_factor = float(scaling["low_freq_factor"])
        high_freq_factor = float(scaling["high_freq_factor"])
        old_context_len = float(scaling["original_max_position_embeddings"])
        low_freq_wavelen = old_context_len / low_freq_factor
        high_freq_wavelen = old_context_len / high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth_factor = (old_context_len / wavelen - low_freq_factor) / (
            high_freq_factor - low_freq_factor
        )
        smoothed = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
        is_medium = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
        return torch.where(is_medium, smoothed, inv_freq_llama), 1.0
    raise ValueError(f"rope_scaling type {kind!r} is not supported (default, linear, llama3)")


ACTIVATIONS = {
    "silu": nn.functional.silu,
    "swish": nn.functional.silu,
    "gelu": nn.functional.gelu,
    "gelu_pytorch_tanh": lambda x: nn.functional.gelu(x, approximate="tanh"),
    "relu": nn.functional.relu,
}


# --------------------------------------------------------------------------------------------
# The three graphs


class VisionEncoder(nn.Module):
    """pixel_values [batch, 3, H, W] -> image_features [batch, image_tokens, text hidden]."""

    def __init__(self, layout):
        super().__init__()
        self.vision_tower = layout.vision_tower
        self.multi_modal_projector = layout.projector
        self.feature_layer = cfg(layout.config, "vision_feature_layer", -2)
        self.strategy = cfg(layout.config, "vision_feature_select_strategy", "default")
        if self.strategy not in ("default", "full"):
            raise ValueError(f"vision_feature_select_strategy {self.strategy!r} is not supported")

    def forward(self, pixel_values):
        hidden_states = self.vision_tower(pixel_values, output_hidden_states=True).hidden_states
        layers = self.feature_layer
        if isinstance(layers, (list, tuple)):
            features = torch.cat([self.select(hidden_states[i]) for i in layers], dim=-1)
        else:
            features = self.select(hidden_states[layers])
        return self.multi_modal_projector(features)

    def select(self, features):
        return features[:, 1:] if self.strategy == "default" else features


class EmbedTokens(nn.Module):
    """input_ids int64 [batch, seq] -> inputs_embeds [batch, seq, hidden]."""

    def __init__(self, layout):
        super().__init__()
        self.embed_tokens = layout.embed_tokens

    def forward(self, input_ids):
        return self.embed_tokens(input_ids)


def rms_norm(x, weight, eps):
    """Llama's RMSNorm: in float32, then back to the input dtype before the weight."""
    dtype = x.dtype
    h = x.to(torch.float32)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(dtype)


def rotate_half_matrix(head_dim, dtype=torch.float32):
    """R with x @ R == rotate_half(x) == cat(-x[..., d/2:], x[..., :d/2]): one MatMul instead of
    two Slices, a Neg and a Concat per use; exact, as each output is one x times +-1."""
    half = head_dim // 2
    r = torch.zeros(head_dim, head_dim, dtype=dtype)
    r[torch.arange(half) + half, torch.arange(half)] = -1.0
    r[torch.arange(half), torch.arange(half) + half] = 1.0
    return r


class Decoder(nn.Module):
    """The Llama decoder with a KV cache, over the model's own Llama-layout weights.

    forward(inputs_embeds [b, s, hidden], attention_mask int64 [b, past + s],
            position_ids int64 [b, s], past.0.key, past.0.value, ... [b, kv_heads, past, d])
        -> (logits [b, s, vocab], present.0.key, present.0.value, ... [b, kv_heads, past + s, d])

    The math is transformers' eager Llama attention. Grouped-query attention is computed by
    broadcasting: the query heads are viewed as [kv_heads, heads / kv_heads], so the cache is
    never repeated (query head h reads kv head h // (heads / kv_heads), as repeat_kv does).
    """

    def __init__(self, layout):
        super().__init__()
        dims = text_dims(cfg(layout.config, "text_config"))
        if dims.heads % dims.kv_heads:
            raise ValueError(f"{dims.kv_heads} kv heads do not divide {dims.heads} heads")
        if dims.act not in ACTIVATIONS:
            raise ValueError(f"hidden_act {dims.act!r} is not supported")
        self.dims = dims
        self.layers = layout.language_model.layers
        self.norm = layout.language_model.norm
        self.lm_head = layout.lm_head
        inv_freq, self.attention_scaling = rope_inv_freq(dims.head_dim, dims.theta,
                                                         dims.rope_scaling)
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.register_buffer("rotate", rotate_half_matrix(dims.head_dim), persistent=False)
        self.act = ACTIVATIONS[dims.act]
        self.scale = dims.head_dim ** -0.5

    def rotary(self, position_ids, dtype):
        freqs = position_ids.to(torch.float32)[:, :, None] * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = (emb.cos() * self.attention_scaling).to(dtype)
        sin = (emb.sin() * self.attention_scaling).to(dtype)
        return cos[:, None, None], sin[:, None, None]  # [b, 1, 1, s, d]

    def forward(self, inputs_embeds, attention_mask, position_ids, *past):
        d = self.dims
        kv, rep, hd = d.kv_heads, d.heads // d.kv_heads, d.head_dim
        h = inputs_embeds
        b, s = h.shape[0], h.shape[1]
        cos, sin = self.rotary(position_ids, h.dtype)
        rotate = self.rotate.to(h.dtype)
        past_len = past[0].shape[2]
        total = past_len + s
        # Query i sits at absolute index past + i and sees keys j <= past + i that the mask keeps.
        query_index = torch.arange(s, device=h.device)[:, None] + past_len
        key_index = torch.arange(total, device=h.device)[None, :]
        allowed = (key_index <= query_index)[None, None, None] & (
            attention_mask[:, None, None, None, :].bool()
        )
        blocked = ~allowed  # [b, 1, 1, s, total]
        lowest = torch.finfo(h.dtype).min
        presents = []
        for i, layer in enumerate(self.layers):
            attn = layer.self_attn
            x = rms_norm(h, layer.input_layernorm.weight, d.eps)
            # q: [b, kv, rep, s, hd]; k, v: [b, kv, s, hd]
            q = attn.q_proj(x).view(b, s, kv, rep, hd).permute(0, 2, 3, 1, 4)
            k = attn.k_proj(x).view(b, s, kv, hd).transpose(1, 2)
            v = attn.v_proj(x).view(b, s, kv, hd).transpose(1, 2)
            q = q * cos + torch.matmul(q, rotate) * sin
            k = k * cos[:, 0] + torch.matmul(k, rotate) * sin[:, 0]
            k = torch.cat((past[2 * i], k), dim=2)
            v = torch.cat((past[2 * i + 1], v), dim=2)
            presents += [k, v]
            scores = torch.matmul(q, k[:, :, None].transpose(3, 4)) * self.scale
            scores = scores.masked_fill(blocked, lowest)
            probs = torch.softmax(scores.to(torch.float32), dim=-1).to(q.dtype)
            out = torch.matmul(probs, v[:, :, None])  # [b, kv, rep, s, hd]
            out = out.permute(0, 3, 1, 2, 4).reshape(b, s, d.heads * hd)
            h = h + attn.o_proj(out)
            x = rms_norm(h, layer.post_attention_layernorm.weight, d.eps)
            mlp = layer.mlp
            h = h + mlp.down_proj(self.act(mlp.gate_proj(x)) * mlp.up_proj(x))
        h = rms_norm(h, self.norm.weight, d.eps)
        return (self.lm_head(h), *presents)


def decoder_names(layers):
    """(input names, output names) of decoder_model_merged, in the graph's order."""
    past = [f"past_key_values.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    present = [f"present.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    return ["inputs_embeds", "attention_mask", "position_ids", *past], ["logits", *present]


def empty_past(layout, batch=1, past=0, dtype=torch.float32, device="cpu"):
    dims = text_dims(cfg(layout.config, "text_config"))
    shape = (batch, dims.kv_heads, past, dims.head_dim)
    return [torch.zeros(shape, dtype=dtype, device=device) for _ in range(2 * dims.layers)]


# --------------------------------------------------------------------------------------------
# Export


def export_graphs(model, onnx_dir, suffix="", dtype=torch.float32, device="cpu"):
    """Writes the three graphs into `onnx_dir`; returns {graph name: path}."""
    layout = resolve_layout(model)
    config = layout.config
    vision = cfg(config, "vision_config")
    dims = text_dims(cfg(config, "text_config"))
    size = int(cfg(vision, "image_size"))
    channels = int(cfg(vision, "num_channels", 3))
    model.eval()
    os.makedirs(onnx_dir, exist_ok=True)
    paths = {g: os.path.join(onnx_dir, f"{g}{suffix}.onnx") for g in GRAPHS}
    gen = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=gen).to(dtype=dtype, device=device)

    # Batch 2, past 3, sequence 5: distinct sizes, so no dimension is traced as a constant.
    batch, past_len, seq = 2, 3, 5
    _export(
        VisionEncoder(layout),
        (rand(batch, channels, size, size),),
        paths["vision_encoder"],
        ["pixel_values"],
        ["image_features"],
        {"pixel_values": {0: "batch_size"}, "image_features": {0: "batch_size"}},
        "pons brain vision encoder: pixel_values -> image_features",
        # The exporter leaves the token count symbolic after the feature select; declare it.
        output_shapes={"image_features": ["batch_size", image_seq_length(config), dims.hidden]},
    )
    _export(
        EmbedTokens(layout),
        (torch.randint(0, dims.vocab, (batch, seq), generator=gen).to(device),),
        paths["embed_tokens"],
        ["input_ids"],
        ["inputs_embeds"],
        {
            "input_ids": {0: "batch_size", 1: "sequence_length"},
            "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
        },
        "pons brain token embeddings: input_ids -> inputs_embeds",
    )
    inputs, outputs = decoder_names(dims.layers)
    axes = {
        "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    for name in inputs[3:]:
        axes[name] = {0: "batch_size", 2: "past_sequence_length"}
    for name in outputs[1:]:
        axes[name] = {0: "batch_size", 2: "total_sequence_length"}
    example = (
        rand(batch, seq, dims.hidden),
        torch.ones(batch, past_len + seq, dtype=torch.int64, device=device),
        (torch.arange(seq, dtype=torch.int64, device=device) + past_len)[None].repeat(batch, 1),
        *[rand(batch, dims.kv_heads, past_len, dims.head_dim) for _ in range(2 * dims.layers)],
    )
    _export(
        Decoder(layout).to(device),  # its rotary buffers go where the weights are
        example,
        paths["decoder_model_merged"],
        inputs,
        outputs,
        axes,
        "pons brain Llama decoder with KV cache: inputs_embeds -> logits, present",
    )
    return paths


def _export(module, args, path, input_names, output_names, dynamic_axes, doc,
            output_shapes=None):
    module.eval()
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as tmp:
        raw = os.path.join(tmp, "graph.onnx")
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings about Python ints in shapes
            torch.onnx.export(
                module,
                args,
                raw,
                input_names=input_names,
                output_names=output_names,
                dynamic_axes=dynamic_axes,
                opset_version=OPSET,
                do_constant_folding=True,
            )
        proto = onnx.load(raw)
    # Exporter details that vary between torch versions stay out of the committed bytes.
    proto.producer_name = "pons models/export"
    proto.producer_version = ""
    proto.doc_string = doc
    for output in proto.graph.output:
        for dim, value in zip(output.type.tensor_type.shape.dim,
                              (output_shapes or {}).get(output.name, [])):
            if isinstance(value, str):
                dim.dim_param = value
            else:
                dim.dim_value = value
    data = path + "_data"
    if os.path.exists(data):
        os.remove(data)
    weights = sum(len(t.raw_data) for t in proto.graph.initializer)
    if weights > EXTERNAL_DATA_BYTES:
        onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(data), size_threshold=1024)
    else:
        onnx.save_model(proto, path)
    check_onnx(path, input_names, output_names)


def check_onnx(path, input_names=None, output_names=None):
    """onnx.checker (with shape inference) and the declared input/output names."""
    onnx.checker.check_model(path, full_check=True)
    proto = onnx.load(path, load_external_data=False)
    opset = max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    if opset > OPSET:
        raise ValueError(f"{path}: opset {opset} > {OPSET}")
    if input_names is not None:
        got = [i.name for i in proto.graph.input]
        if got != list(input_names):
            raise ValueError(f"{path}: inputs {got}, expected {list(input_names)}")
    if output_names is not None:
        got = [o.name for o in proto.graph.output]
        if got != list(output_names):
            raise ValueError(f"{path}: outputs {got}, expected {list(output_names)}")


def graph_signature(path):
    """{name: (elem type, [dim value or dim name])} for each input and output of a graph."""
    proto = onnx.load(path, load_external_data=False)

    def dims(value):
        shape = value.type.tensor_type.shape.dim
        return [d.dim_param if d.dim_param else d.dim_value for d in shape]

    out = {}
    for v in list(proto.graph.input) + list(proto.graph.output):
        out[v.name] = (onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type), dims(v))
    return out


# --------------------------------------------------------------------------------------------
# pons.json and the ActionSpec


def action_tokens(tokenizer, count, model_vocab):
    """pons.json `action_tokens` from the ActionSpec's tokenizer section: the `bins` ids that end
    `id_offset` ids before the end of the spec's `vocab_size`. Raises ValueError when that range
    is not inside the model's vocabulary."""
    bins, vocab, offset = int(tokenizer["bins"]), int(tokenizer["vocab_size"]), int(
        tokenizer.get("id_offset", 0)
    )
    last_id = vocab - offset - 1
    first_id = last_id - bins + 1
    if first_id < 0 or last_id >= model_vocab:
        raise ValueError(
            f"the ActionSpec's action tokens {first_id}..{last_id} (vocab_size {vocab}, "
            f"id_offset {offset}, bins {bins}) are outside the model's vocabulary "
            f"(0..{model_vocab - 1})"
        )
    return {"count": int(count), "first_id": first_id, "last_id": last_id}


def write_pons(path, *, name, description, action_spec, spec_id, tokens, prompt_user,
               add_special_tokens=False, modes=("autoregressive",), default="autoregressive",
               placeholder_id=None, training=None):
    """pons.json exactly as docs/model-package.md lays it out."""
    if default not in modes:
        raise ValueError(f"default decoding {default!r} is not in {list(modes)}")
    decoding = {"default": default, "modes": list(modes)}
    if "parallel" in modes:
        if placeholder_id is None:
            raise ValueError("parallel decoding needs a placeholder id")
        decoding["placeholder_id"] = int(placeholder_id)
    if "{instruction}" not in prompt_user:
        raise ValueError("the prompt must contain {instruction}")
    manifest = {
        "kind": "vla-brain",
        "name": name,
        "description": description,
        "action_spec": action_spec,
        "spec_id": spec_id,
        "action_tokens": tokens,
        "prompt": {"user": prompt_user, "add_special_tokens": bool(add_special_tokens)},
        "decoding": decoding,
    }
    if training is not None:
        manifest["training"] = training
    write_json(path, manifest)
    return manifest


def contract_spec(spec_path):
    """The ActionSpec as the TypeScript contract loads it (`dist/contract/index.js`, built by
    `npm run build`), statistics resolved, with its spec id under "id": one implementation
    computes the id that both ends check."""
    contract = os.path.join(REPO, "dist", "contract", "index.js")
    if not os.path.exists(contract):
        sys.exit(f"{contract} is missing: run `npm run build` first, or pass --spec-id")
    script = (
        "const m = await import(process.argv[1]);"
        "const s = m.loadActionSpec(process.argv[2]);"
        "console.log(JSON.stringify({...s, id: m.specId(s)}));"
    )
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script, "--", "file://" + contract, spec_path],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def spec_from_node(spec_path):
    """Spec id, horizon, dimension count and tokenizer section."""
    spec = contract_spec(spec_path)
    return {
        "id": spec["id"],
        "horizon": spec["horizon"],
        "dimensions": len(spec["dimensions"]),
        "tokenizer": spec["tokenizer"],
    }


def spec_from_yaml(spec_path, spec_id):
    """With --spec-id (no Node): horizon, dimension count and tokenizer read from the YAML."""
    import yaml  # python3-yaml

    with open(spec_path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    return {
        "id": spec_id,
        "horizon": int(spec["horizon"]),
        "dimensions": len(spec["dimensions"]),
        "tokenizer": spec["tokenizer"],
    }


def load_spec(spec_path, spec_id=None):
    spec_path = os.path.abspath(spec_path)
    return spec_from_yaml(spec_path, spec_id) if spec_id else spec_from_node(spec_path)


# --------------------------------------------------------------------------------------------
# Files


def floats(t):
    # float32 values are exact in a double; Python's repr round-trips them exactly.
    return [float(v) for v in t.detach().to(torch.float32).reshape(-1).tolist()]


def write_json(path, value):
    """Indented JSON with each list of numbers or strings on one line."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    text = re.sub(
        r"\[\s*([^\[\]{}]*?)\s*\]",
        lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]",
        text,
    )
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
