#!/usr/bin/python3
"""Builds the bundled tiny VLA brain package `models/tiny-vla/` and its test fixtures.

tiny-vla is an UNTRAINED, random-weight model with the LLaVA architecture of a real brain
(Align-DS-V: CLIP-style ViT, MLP projector, Llama decoder), small enough to bundle and to run a
whole decision in milliseconds on a CPU. It exists so the runtime (src/brain) runs the same code
path as for a real checkpoint; the fine-tuning issue trains it. The package format is
docs/model-package.md; the export is models/export/llava_onnx.py.

This script writes, deterministically (seeded; the same bytes on every run):

  models/tiny-vla/onnx/{vision_encoder,embed_tokens,decoder_model_merged}.onnx
  models/tiny-vla/config.json               LLaVA config (Hugging Face keys)
  models/tiny-vla/preprocessor_config.json  CLIPImageProcessor keys (336 px, CLIP mean/std)
  models/tiny-vla/tokenizer.json            byte-level BPE (4096 ids: bytes, merges learned
                                            here from robot instructions, special tokens, and
                                            the action tokens <act_0>..<act_255> = 3840..4095)
  models/tiny-vla/tokenizer_config.json     special tokens and the Llama-3 style chat template
  models/tiny-vla/pons.json                 the binding to calibration/planar-arm/action_spec.yaml
  models/tiny-vla/golden.json, golden/*.png three images and instructions with their token ids,
                                            and the greedy action tokens and logits computed by
                                            the plain PyTorch model (full sequence, no KV cache)
                                            in both decoding modes; the runtime must match them
  test/fixtures/brain/resize/{source,expected}.png
                                            CLIPImageProcessor's resize (PIL bicubic, shortest
                                            edge 336) and center crop of a 640x480 image

The golden token ids come from this file's own tokenizer implementation (Jinja chat template,
added-token split, GPT-2 pre-tokenization, byte-to-unicode, BPE merges by rank), independent of
the JavaScript tokenizer the runtime uses.

Run with Debian's interpreter (python3-torch, python3-onnx, python3-jinja2), from the repository
root:

    npm run build && /usr/bin/python3 models/training/make_tiny_vla.py

The spec id is computed by the TypeScript contract (`dist/contract/index.js`, hence
`npm run build`); pass `--spec-id` to skip Node.
"""

import argparse
import hashlib
import json
import math
import os
import re
import sys
import time
from types import SimpleNamespace

import blas

if __name__ == "__main__":
    # The committed package is the float sums of the reference BLAS; OpenBLAS sums in another
    # order. The same bytes whichever the system prefers.
    blas.rerun_with(blas.REFERENCE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torch import nn  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "models", "export"))

import llava_onnx  # noqa: E402
from llava_onnx import floats, write_json  # noqa: E402

VOCAB_SIZE = 4096
ACTION_BINS = 256
FIRST_ACTION_ID = VOCAB_SIZE - ACTION_BINS  # 3840

# Special tokens at ids 0..7, then the 256 byte tokens (id 8 + byte), then the merges; reserved
# tokens fill the gap up to the action tokens.
SPECIAL_TOKENS = [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<image>",
    "<|pad|>",
    "<|action_query|>",
]
BOS, EOS, PAD = "<|begin_of_text|>", "<|eot_id|>", "<|pad|>"
IMAGE_TOKEN, PLACEHOLDER = "<image>", "<|action_query|>"
BYTE_ID0 = len(SPECIAL_TOKENS)
MAX_MERGES = 1024

CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    " + message['content'] + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}"
)
PROMPT_USER = "<image>\nWhat action should the robot take to {instruction}?"

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# Model sizes. Vision: 336 px / 28 px patches = 12 x 12 = 144 image tokens (+ CLS, dropped).
VISION = dict(image_size=336, patch_size=28, hidden_size=96, intermediate_size=384,
              num_hidden_layers=2, num_attention_heads=4, num_channels=3, hidden_act="gelu",
              layer_norm_eps=1e-5)
TEXT = dict(hidden_size=128, intermediate_size=384, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=32, vocab_size=VOCAB_SIZE, hidden_act="silu",
            rms_norm_eps=1e-5, rope_theta=500000.0,
            # DeepSeek-R1-Distill-Llama-8B's (Align-DS-V's language model) scaling.
            rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                          "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
            max_position_embeddings=2048, tie_word_embeddings=False,
            bos_token_id=0, eos_token_id=4, pad_token_id=6)

GOLDEN_CASES = [
    ("reach-red", "reach the red block"),
    ("push-blue-left", "push the blue block to the left zone"),
    ("pick-green-place-right", "pick up the green cube and place it in the right zone"),
]
GOLDEN_LOGIT_STEPS = 4
MIN_MARGIN = 1e-3


# ============================================================================================
# The model: Hugging Face LLaVA names, plain full-sequence PyTorch (no KV cache). Its attention
# and rotary code is deliberately written apart from llava_onnx's exported decoder, so the
# golden vectors check the exported graphs rather than repeat them.


def merge_pair(symbols, a, b):
    """`symbols` with every adjacent (a, b), left to right, replaced by a + b."""
    merged, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
            merged.append(a + b)
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return merged


def make_config(vision=None, text=None, image_token_index=5):
    return SimpleNamespace(
        vision_config=SimpleNamespace(model_type="clip_vision_model", **(vision or VISION)),
        text_config=SimpleNamespace(model_type="llama", **(text or TEXT)),
        image_token_index=image_token_index,
        projector_hidden_act="gelu",
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
    )


class VisionOutput(SimpleNamespace):
    """Like CLIP's output: last_hidden_state, and hidden_states = (embeddings, each layer)."""


class VisionEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.patch_embedding = nn.Conv2d(c.num_channels, c.hidden_size, c.patch_size,
                                         stride=c.patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(c.hidden_size))
        patches = (c.image_size // c.patch_size) ** 2
        self.position_embedding = nn.Embedding(patches + 1, c.hidden_size)

    def forward(self, pixel_values):
        patches = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(patches.shape[0], 1, -1)
        return torch.cat([cls, patches], dim=1) + self.position_embedding.weight[None]


class VisionAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c.num_attention_heads
        self.q_proj = nn.Linear(c.hidden_size, c.hidden_size)
        self.k_proj = nn.Linear(c.hidden_size, c.hidden_size)
        self.v_proj = nn.Linear(c.hidden_size, c.hidden_size)
        self.out_proj = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, x):
        b, n, width = x.shape
        d = width // self.heads

        def split(t):
            return t.view(b, n, self.heads, d).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1)
        return self.out_proj((probs @ v).transpose(1, 2).reshape(b, n, width))


class VisionMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1 = nn.Linear(c.hidden_size, c.intermediate_size)
        self.fc2 = nn.Linear(c.intermediate_size, c.hidden_size)

    def forward(self, x):
        return self.fc2(nn.functional.gelu(self.fc1(x)))


class VisionLayer(nn.Module):
    """A pre-LN transformer layer (CLIP's encoder layer)."""

    def __init__(self, c):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.self_attn = VisionAttention(c)
        self.layer_norm2 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.mlp = VisionMLP(c)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class VisionEncoderLayers(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.ModuleList(VisionLayer(c) for _ in range(c.num_hidden_layers))


class VisionTower(nn.Module):
    """A small CLIP-style ViT: conv patch embedding + CLS + learned positions, pre-LN layers."""

    def __init__(self, c):
        super().__init__()
        self.embeddings = VisionEmbeddings(c)
        self.pre_layrnorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.encoder = VisionEncoderLayers(c)
        self.post_layernorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, pixel_values, output_hidden_states=False):
        x = self.pre_layrnorm(self.embeddings(pixel_values))
        states = [x]
        for layer in self.encoder.layers:
            x = layer(x)
            states.append(x)
        return VisionOutput(
            last_hidden_state=x,
            pooler_output=self.post_layernorm(x[:, 0]),
            hidden_states=tuple(states) if output_hidden_states else None,
        )


class Projector(nn.Module):
    """LLaVA's multi_modal_projector: linear_1, GELU, linear_2."""

    def __init__(self, vision_hidden, text_hidden):
        super().__init__()
        self.linear_1 = nn.Linear(vision_hidden, text_hidden)
        self.act = nn.GELU()
        self.linear_2 = nn.Linear(text_hidden, text_hidden)

    def forward(self, image_features):
        return self.linear_2(self.act(self.linear_1(image_features)))


class RMSNorm(nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.variance_epsilon = eps

    def forward(self, x):
        return self.weight * (x / torch.sqrt((x * x).mean(-1, keepdim=True) +
                                             self.variance_epsilon))


def llama3_reference_inv_freq(head_dim, theta, scaling):
    """Rotary frequencies, with Meta's reference `apply_scaling` (llama3 models) written as a
    per-frequency loop in double precision (an independent check of llava_onnx's tensor code)."""
    base = 1.0 / (theta ** (torch.arange(0, head_dim, 2).to(torch.float32) / head_dim))
    if not scaling:
        return base
    factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    old = scaling["original_max_position_embeddings"]
    out = []
    for freq in base.tolist():
        wavelen = 2 * math.pi / freq
        if wavelen < old / high:
            out.append(freq)
        elif wavelen > old / low:
            out.append(freq / factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            out.append((1 - smooth) * freq / factor + smooth * freq)
    return torch.tensor(out, dtype=torch.float32)


class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = (c.num_attention_heads,
                                                    c.num_key_value_heads, c.head_dim)
        self.q_proj = nn.Linear(c.hidden_size, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, c.hidden_size, bias=False)

    def forward(self, x, cos, sin):
        b, n, _ = x.shape
        q = self.q_proj(x).view(b, n, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        # Query head h reads kv head h // (heads / kv_heads).
        rep = self.heads // self.kv_heads
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)
        future = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
        scores = scores + torch.zeros(n, n).masked_fill(future, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v
        return self.o_proj(out.transpose(1, 2).reshape(b, n, self.heads * self.head_dim))


def rotate(x, cos, sin):
    """Rotary embedding on the two halves of each head (Hugging Face's Llama weight layout)."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class LlamaMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        gate = self.gate_proj(x)
        return self.down_proj(gate * torch.sigmoid(gate) * self.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = LlamaAttention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = LlamaMLP(c)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList(LlamaLayer(c) for _ in range(c.num_hidden_layers))
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.register_buffer(
            "inv_freq",
            llama3_reference_inv_freq(c.head_dim, c.rope_theta, getattr(c, "rope_scaling", None)),
            persistent=False,
        )

    def forward(self, inputs_embeds, position_ids=None):
        n = inputs_embeds.shape[1]
        if position_ids is None:
            position_ids = torch.arange(n)
        angles = position_ids.to(torch.float32)[:, None] * self.inv_freq[None, :]
        cos, sin = angles.cos(), angles.sin()
        x = inputs_embeds
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.norm(x)


class LlavaModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.vision_tower = VisionTower(config.vision_config)
        self.multi_modal_projector = Projector(config.vision_config.hidden_size,
                                               config.text_config.hidden_size)
        self.language_model = LlamaModel(config.text_config)


class TinyLlava(nn.Module):
    """The new transformers layout: model.model.{vision_tower, multi_modal_projector,
    language_model}, model.lm_head."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.model = LlavaModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size,
                                 bias=False)

    def image_features(self, pixel_values):
        states = self.model.vision_tower(pixel_values, output_hidden_states=True).hidden_states
        return self.model.multi_modal_projector(
            states[self.config.vision_feature_layer][:, 1:])

    def embed(self, input_ids, image_features):
        """Token embeddings; the image token positions take the image features, in order.
        `input_ids` [seq] already has one image token id per image feature."""
        embeds = self.model.language_model.embed_tokens(input_ids)
        at = (input_ids == self.config.image_token_index).nonzero()[:, 0]
        assert len(at) == image_features.shape[1], "image tokens != image features"
        embeds = embeds.clone()
        embeds[at] = image_features[0]
        return embeds

    def forward(self, input_ids, image_features, position_ids=None):
        """Full-sequence logits [seq, vocab] for one prompt (no cache)."""
        embeds = self.embed(input_ids, image_features)
        hidden = self.model.language_model(embeds[None], position_ids)
        return self.lm_head(hidden)[0]


def init_weights(model, seed, logit_std=4.0):
    """Deterministic random weights with enough spread that attention is not uniform and the
    action logits differ by clear margins (std about `logit_std`)."""
    gen = torch.Generator().manual_seed(seed)
    text_hidden = model.config.text_config.hidden_size
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("lm_head.weight"):
                p.copy_(torch.randn(p.shape, generator=gen) * (logit_std / math.sqrt(text_hidden)))
            elif name.endswith("embed_tokens.weight"):
                p.copy_(torch.randn(p.shape, generator=gen))
            elif "position_embedding" in name or "class_embedding" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))
            else:  # linear and conv weights
                fan_in = p[0].numel()
                gain = 1.5 if ("q_proj" in name or "k_proj" in name) else 1.0
                p.copy_(torch.randn(p.shape, generator=gen) * (gain / math.sqrt(fan_in)))
    return model


def build_model(seed, vision=None, text=None, image_token_index=5):
    torch.manual_seed(seed)
    model = TinyLlava(make_config(vision, text, image_token_index))
    return init_weights(model, seed).eval()


# ============================================================================================
# Tokenizer: byte-level BPE in the Hugging Face tokenizer.json format.

# GPT-2's pre-tokenizer regex (the ByteLevel pre-tokenizer's, use_regex: true) restricted to
# ASCII: \p{L} = [A-Za-z], \p{N} = [0-9], \s = the ASCII whitespace characters.
_WS, _NOT_WS = r"[ \t\n\r\x0b\x0c]", r"[^ \t\n\r\x0b\x0c]"
GPT2_PATTERN = re.compile(
    r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^ \t\n\r\x0b\x0cA-Za-z0-9]+|"
    + _WS + "+(?!" + _NOT_WS + ")|" + _WS + "+"
)


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character map."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_CHARS = bytes_to_unicode()


def check_text(text):
    """The pre-tokenizer here is GPT-2's regex for ASCII (letters A-Z a-z, digits 0-9)."""
    bad = [c for c in text if not (c == "\n" or " " <= c <= "~")]
    if bad:
        raise ValueError(f"only printable ASCII and newlines are supported, got {bad[:3]!r}")


def pre_tokenize(text):
    check_text(text)
    words = GPT2_PATTERN.findall(text)
    assert "".join(words) == text
    return ["".join(BYTE_CHARS[b] for b in w.encode("utf-8")) for w in words]


def split_added(text, added):
    """[(segment, is_added)] with the added tokens matched leftmost-longest."""
    if not added:
        return [(text, False)] if text else []
    pattern = re.compile("|".join(re.escape(t) for t in sorted(added, key=len, reverse=True)))
    out, pos = [], 0
    for m in pattern.finditer(text):
        if m.start() > pos:
            out.append((text[pos:m.start()], False))
        out.append((m.group(0), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def bpe(word, ranks):
    """Merges by rank: repeatedly merge every occurrence (left to right) of the adjacent pair
    with the lowest rank, until no adjacent pair has a merge."""
    symbols = list(word)
    while len(symbols) > 1:
        pairs = [(ranks[p], p) for p in zip(symbols, symbols[1:]) if p in ranks]
        if not pairs:
            break
        _, (a, b) = min(pairs)
        symbols = merge_pair(symbols, a, b)
    return symbols


class BpeTokenizer:
    """Encoder for the tokenizer.json this file writes (no normalizer, add_special_tokens off)."""

    def __init__(self, vocab, merges, added):
        self.vocab = vocab
        self.ranks = {tuple(m.split(" ")): r for r, m in enumerate(merges)}
        self.added = dict(added)  # content -> id

    def tokens(self, text):
        out = []
        for segment, is_added in split_added(text, self.added):
            if is_added:
                out.append(segment)
            else:
                for word in pre_tokenize(segment):
                    out.extend(bpe(word, self.ranks))
        return out

    def encode(self, text):
        return [self.added[t] if t in self.added else self.vocab[t] for t in self.tokens(text)]


def train_bpe(texts, added, max_merges):
    """Byte-level BPE merges learned from `texts` (added tokens split out first). Each round
    merges the most frequent adjacent pair (ties: the smallest pair), until no pair occurs twice
    or `max_merges` is reached."""
    counts = {}
    for text in texts:
        for segment, is_added in split_added(text, added):
            if not is_added:
                for word in pre_tokenize(segment):
                    counts[word] = counts.get(word, 0) + 1
    words = {tuple(w): c for w, c in sorted(counts.items())}
    merges = []
    while len(merges) < max_merges:
        pairs = {}
        for symbols, c in words.items():
            for p in zip(symbols, symbols[1:]):
                pairs[p] = pairs.get(p, 0) + c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] < 2:
            break
        merges.append(best)
        a, b = best
        new = {}
        for symbols, c in words.items():
            out = tuple(merge_pair(symbols, a, b))
            new[out] = new.get(out, 0) + c
        words = new
    return [f"{a} {b}" for a, b in merges]


COLOURS = ["red", "green", "blue", "yellow", "purple", "orange"]
OBJECTS = ["block", "cube"]
ZONES = ["left", "right"]


def instruction_corpus():
    """Robot instructions for the tiny vocabulary (deterministic order)."""
    out = []
    for c in COLOURS:
        for o in OBJECTS:
            out += [f"reach the {c} {o}", f"touch the {c} {o}", f"pick up the {c} {o}",
                    f"grasp the {c} {o}", f"lift the {c} {o}"]
            for z in ZONES:
                out += [
                    f"push the {c} {o} to the {z} zone",
                    f"move the {c} {o} to the {z} zone",
                    f"place the {c} {o} in the {z} zone",
                    f"pick up the {c} {o} and place it in the {z} zone",
                    f"slide the {c} {o} {z}",
                ]
            for c2 in COLOURS:
                if c2 != c:
                    out += [f"stack the {c} {o} on the {c2} {o}",
                            f"put the {c} {o} next to the {c2} {o}"]
    for z in ZONES:
        out += [f"move the arm to the {z}", f"move to the {z} zone", f"turn {z}"]
    out += ["stop", "go home", "wait", "open the gripper", "close the gripper",
            "move forward", "move back", "move up", "move down"]
    return out


def tokenizer_layout(merges):
    """(vocab {token: id} for all 4096 ids, added tokens [(content, id)])."""
    vocab = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
    for b in range(256):
        vocab[BYTE_CHARS[b]] = BYTE_ID0 + b
    for m in merges:
        token = m.replace(" ", "")
        if token not in vocab:
            vocab[token] = len(vocab)
    reserved = FIRST_ACTION_ID - len(vocab)
    if reserved < 0:
        raise ValueError("too many merges for the vocabulary")
    added = [(t, i) for i, t in enumerate(SPECIAL_TOKENS)]
    for k in range(reserved):
        token = f"<|reserved_{k}|>"
        added.append((token, len(vocab)))
        vocab[token] = len(vocab)
    for k in range(ACTION_BINS):
        token = f"<act_{k}>"
        added.append((token, len(vocab)))
        vocab[token] = len(vocab)
    assert len(vocab) == VOCAB_SIZE and vocab["<act_0>"] == FIRST_ACTION_ID
    return vocab, added


def build_tokenizer():
    """(BpeTokenizer, tokenizer.json dict, tokenizer_config.json dict)."""
    texts = [render_prompt(PROMPT_USER.format(instruction=i)) for i in instruction_corpus()]
    merges = train_bpe(texts, SPECIAL_TOKENS, MAX_MERGES)
    vocab, added = tokenizer_layout(merges)
    merged = {m.replace(" ", "") for m in merges}
    assert not merged & {t for t, _ in added}, "a merge produces an added token"
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": True}
    tokenizer_json = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for t, i in added
        ],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        # Like Llama 3: add_special_tokens=true prepends <|begin_of_text|> (pons passes false;
        # the chat template writes it).
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": BOS, "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": BOS, "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": BOS, "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {BOS: {"id": BOS, "ids": [vocab[BOS]], "tokens": [BOS]}},
        },
        "decoder": dict(byte_level),
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": merges,
        },
    }
    tokenizer_config = {
        "bos_token": BOS,
        "eos_token": EOS,
        "pad_token": PAD,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
        "model_max_length": TEXT["max_position_embeddings"],
        "tokenizer_class": "PreTrainedTokenizerFast",
        "processor_class": "LlavaProcessor",
    }
    return BpeTokenizer(vocab, merges, added), tokenizer_json, tokenizer_config, merges


def render_prompt(content, template=CHAT_TEMPLATE):
    """The chat template rendered the way transformers' apply_chat_template does."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment  # python3-jinja2

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(
        messages=[{"role": "user", "content": content}],
        add_generation_prompt=True,
        bos_token=BOS,
        eos_token=EOS,
    )


# ============================================================================================
# Images


def preprocessor_config():
    return {
        "crop_size": {"height": VISION["image_size"], "width": VISION["image_size"]},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": CLIP_MEAN,
        "image_processor_type": "CLIPImageProcessor",
        "image_std": CLIP_STD,
        "processor_class": "LlavaProcessor",
        "resample": 3,
        "rescale_factor": 1 / 255,
        "size": {"shortest_edge": VISION["image_size"]},
    }


def pixel_values(rgb):
    """CLIPImageProcessor's rescale and normalize of an image already at 336x336 (resize and
    crop are then the identity): uint8 x rescale_factor (in float64, as transformers does), to
    float32, then (x - mean) / std in float32. -> [1, 3, H, W]."""
    x = (rgb.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]


RGB = {"red": (220, 40, 40), "green": (40, 180, 70), "blue": (40, 80, 220),
       "yellow": (235, 210, 50), "purple": (140, 60, 170), "orange": (240, 140, 30)}


def tabletop(size, blocks, tint=0):
    """A synthetic tabletop: a wood-like gradient, two zone stripes, coloured blocks."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    table = np.stack([150 + 40 * x / size + 10 * np.sin(y / 7.0),
                      120 + 30 * y / size + tint,
                      90 + 20 * np.cos(x / 11.0)], axis=-1)
    img = table.copy()
    img[:, : size // 6] *= 0.8  # left zone
    img[:, -size // 6:] *= 0.85  # right zone
    for colour, (cx, cy, w, h) in blocks:
        img[cy - h // 2: cy + h // 2, cx - w // 2: cx + w // 2] = RGB[colour]
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


GOLDEN_SCENES = {
    "reach-red": [("red", (100, 200, 40, 40)), ("blue", (240, 120, 36, 36)),
                  ("yellow", (180, 280, 30, 30))],
    "push-blue-left": [("blue", (200, 180, 44, 44)), ("green", (90, 90, 30, 30)),
                       ("orange", (270, 260, 34, 28))],
    "pick-green-place-right": [("green", (120, 150, 40, 40)), ("purple", (250, 90, 30, 30)),
                               ("red", (170, 290, 28, 28))],
}


def save_png(path, rgb):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(rgb, "RGB").save(path, format="PNG", optimize=False, compress_level=9)


def write_resize_fixture(out_dir):
    """A 640x480 image and CLIPImageProcessor's result on it: resize so the shortest edge is 336
    with PIL bicubic (-> 448x336), then center crop 336x336 (top = (h - 336) // 2,
    left = (w - 336) // 2)."""
    w, h, size = 640, 480, VISION["image_size"]
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([255 * x / (w - 1), 255 * y / (h - 1),
                    128 + 100 * np.sin(x / 23.0) * np.cos(y / 17.0)], axis=-1)
    img[100:180, 60:200] = (250, 20, 20)  # sharp-edged rectangles
    img[300:420, 400:470] = (10, 30, 240)
    img[200:260, 280:600] = (255, 255, 255)
    img[::40, :] = 0  # thin lines
    img[:, 5:7] = 255
    src = np.clip(np.round(img), 0, 255).astype(np.uint8)
    save_png(os.path.join(out_dir, "source.png"), src)
    short, long = min(w, h), max(w, h)
    new_long = int(size * long / short)
    new_w, new_h = (new_long, size) if w >= h else (size, new_long)
    resized = Image.fromarray(src, "RGB").resize((new_w, new_h), resample=Image.BICUBIC)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    out = np.asarray(resized)[top: top + size, left: left + size]
    save_png(os.path.join(out_dir, "expected.png"), np.ascontiguousarray(out))
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write(
            "# CLIPImageProcessor resize fixture\n\n"
            f"`source.png` ({w}×{h}, smooth gradients, sharp-edged rectangles and lines) and "
            f"`expected.png`, its CLIPImageProcessor resize and crop: PIL `resize(({new_w}, "
            f"{new_h}), Image.BICUBIC)` (shortest edge {size}), then the center crop "
            f"{size}×{size} at top {top}, left {left} (`(h − {size}) // 2`, "
            f"`(w − {size}) // 2`). Written by `models/training/make_tiny_vla.py` "
            "(`write_resize_fixture`) with Pillow "
            f"{Image.__version__}; regenerate with `/usr/bin/python3 "
            "models/training/make_tiny_vla.py`.\n"
        )


# ============================================================================================
# Golden vectors


def expand_image_tokens(ids, image_id, count):
    out = []
    for i in ids:
        out.extend([image_id] * count if i == image_id else [i])
    return out


def greedy(logits, first, last):
    """(token id, margin between the best and second-best logit) over [first, last]."""
    allowed = logits[first: last + 1]
    top = torch.topk(allowed, 2)
    return first + int(top.indices[0]), float(top.values[0] - top.values[1])


def golden_case(model, tokenizer, name, instruction, package_dir, count, first, last):
    c = model.config
    rgb = tabletop(c.vision_config.image_size, GOLDEN_SCENES[name], tint=len(name))
    image = f"golden/{name}.png"
    save_png(os.path.join(package_dir, image), rgb)
    prompt = render_prompt(PROMPT_USER.format(instruction=instruction))
    ids = tokenizer.encode(prompt)
    image_tokens = llava_onnx.image_seq_length(c)
    expanded = torch.tensor(expand_image_tokens(ids, c.image_token_index, image_tokens))
    margins = []
    with torch.no_grad():
        features = model.image_features(pixel_values(rgb))
        # Autoregressive: a full forward over the prompt and the tokens so far, for each token.
        seq, tokens, ar_logits = expanded, [], []
        for step in range(count):
            logits = model(seq, features)[-1]
            token, margin = greedy(logits, first, last)
            margins.append(margin)
            tokens.append(token)
            if step < GOLDEN_LOGIT_STEPS:
                ar_logits.append(floats(logits[first: last + 1]))
            seq = torch.cat([seq, torch.tensor([token])])
        # Parallel: the prompt, then `count` placeholders; one forward.
        placeholder = tokenizer.added[PLACEHOLDER]
        logits = model(torch.cat([expanded, torch.full((count,), placeholder)]), features)
        par_tokens, par_logits = [], []
        for k in range(count):
            row = logits[len(expanded) + k]
            token, margin = greedy(row, first, last)
            margins.append(margin)
            par_tokens.append(token)
            if k < GOLDEN_LOGIT_STEPS:
                par_logits.append(floats(row[first: last + 1]))
    case = {
        "name": name,
        "image": image,
        "rgb_sha256": hashlib.sha256(rgb.tobytes()).hexdigest(),
        "instruction": instruction,
        "prompt_text": prompt,
        "input_ids": ids,
        "image_token_count": image_tokens,
        "autoregressive": {"tokens": tokens, "logits": ar_logits},
        "parallel": {"tokens": par_tokens, "logits": par_logits},
    }
    return case, margins, (expanded, features, tokens)


def check_cache_decoding(model, expanded, features, tokens, first, last):
    """The exported decoder's module (KV cache, past = 0 first) gives the golden tokens and the
    full-sequence logits; guards the export before anything is written."""
    layout = llava_onnx.resolve_layout(model)
    decoder = llava_onnx.Decoder(layout).eval()
    with torch.no_grad():
        embeds = model.embed(expanded, features)[None]
        past = llava_onnx.empty_past(layout)
        n = embeds.shape[1]
        out = decoder(embeds, torch.ones(1, n, dtype=torch.int64), torch.arange(n)[None], *past)
        reference = model(expanded, features)
        err = float((out[0][0] - reference).abs().max())
        got, past = [], out[1:]
        logits = out[0][0, -1]
        for step in range(len(tokens)):
            token, _ = greedy(logits, first, last)
            got.append(token)
            e = model.model.language_model.embed_tokens(torch.tensor([[token]]))
            pos = n + step
            out = decoder(e, torch.ones(1, pos + 1, dtype=torch.int64), torch.tensor([[pos]]),
                          *past)
            logits, past = out[0][0, -1], out[1:]
    assert got == tokens, f"KV-cache decoding {got} != full-sequence {tokens}"
    assert err < 1e-4, f"decoder wrapper logits differ from the model by {err}"
    return err


# ============================================================================================


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--spec", default=os.path.join(REPO, "calibration", "planar-arm", "action_spec.yaml")
    )
    parser.add_argument("--spec-id", help="skip Node: the ActionSpec id to bind the package to")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(REPO, "models", "tiny-vla"))
    parser.add_argument(
        "--fixtures", default=os.path.join(REPO, "test", "fixtures", "brain", "resize")
    )
    args = parser.parse_args()
    started = time.time()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # the same float sums on every run and machine

    spec = llava_onnx.load_spec(args.spec, args.spec_id)
    count = spec["horizon"] * spec["dimensions"]
    tokens_range = llava_onnx.action_tokens(spec["tokenizer"], count, VOCAB_SIZE)
    first, last = tokens_range["first_id"], tokens_range["last_id"]
    if (first, last) != (FIRST_ACTION_ID, VOCAB_SIZE - 1):
        sys.exit(f"the ActionSpec's action ids {first}..{last} are not tiny-vla's "
                 f"<act_0>..<act_255> ({FIRST_ACTION_ID}..{VOCAB_SIZE - 1})")

    tokenizer, tokenizer_json, tokenizer_config, merges = build_tokenizer()
    image_id = tokenizer.added[IMAGE_TOKEN]
    model = build_model(args.seed, image_token_index=image_id)

    out = args.out
    write_json(os.path.join(out, "tokenizer_config.json"), tokenizer_config)
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json, f, ensure_ascii=False, indent=1)
        f.write("\n")
    write_json(os.path.join(out, "preprocessor_config.json"), preprocessor_config())
    write_json(os.path.join(out, "config.json"), llava_onnx.llava_config(model.config))

    cases, margins = [], []
    for name, instruction in GOLDEN_CASES:
        case, case_margins, trace = golden_case(model, tokenizer, name, instruction, out, count,
                                                first, last)
        cases.append(case)
        margins += case_margins
        check_cache_decoding(model, *trace, first, last)
    min_margin = min(margins)
    assert min_margin >= MIN_MARGIN, f"a golden greedy step is decided by {min_margin} < 1e-3"

    paths = llava_onnx.export_graphs(model, os.path.join(out, "onnx"))
    llava_onnx.write_pons(
        os.path.join(out, "pons.json"),
        name="tiny-vla",
        description="Untrained, random-weight LLaVA-architecture model (tiny ViT, MLP "
        "projector, 2-layer Llama decoder, 4096-token byte-level BPE): the bundled brain "
        "until the fine-tuning issue trains it. Its actions are meaningless.",
        action_spec=os.path.relpath(os.path.abspath(args.spec), os.path.abspath(out)),
        spec_id=spec["id"],
        tokens=tokens_range,
        prompt_user=PROMPT_USER,
        add_special_tokens=False,
        modes=("autoregressive", "parallel"),
        default="autoregressive",
        placeholder_id=tokenizer.added[PLACEHOLDER],
        training={"trained": False, "script": "models/training/make_tiny_vla.py",
                  "seed": args.seed},
    )
    write_json(os.path.join(out, "golden.json"), {
        "note": "Written by models/training/make_tiny_vla.py: token ids from its own tokenizer "
        "implementation; action tokens (greedy over the action range) and their logits "
        f"(ids {first}..{last}, the first {GOLDEN_LOGIT_STEPS} steps) from the plain PyTorch "
        "model, full sequence without a KV cache. Images are relative to this file.",
        "seed": args.seed,
        "torch": torch.__version__.split("+")[0],
        "tolerance": 1e-4,
        "min_margin": min_margin,
        "cases": cases,
    })
    write_resize_fixture(args.fixtures)

    total = 0
    for graph, path in paths.items():
        size = os.path.getsize(path)
        total += size
        print(f"{os.path.relpath(path, REPO)}: {size} bytes")
    print(f"onnx total {total} bytes; {len(merges)} merges; "
          f"{sum(p.numel() for p in model.parameters())} parameters")
    print(f"golden: {len(cases)} cases, minimum margin {min_margin:.6f} (>= {MIN_MARGIN})")
    print(f"spec_id {spec['id']}; {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
