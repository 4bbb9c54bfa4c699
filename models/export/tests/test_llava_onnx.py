"""Tests of the LLaVA export (models/export) and the tiny-vla tokenizer (models/training).

Fast and without transformers; run from the repository root with Debian's interpreter:

    /usr/bin/python3 -m unittest discover -s models/export/tests

The exported decoder is also run in onnxruntime (through Node and the repository's
onnxruntime-node) when `node_modules` has it; otherwise that test is skipped.
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import torch
from torch import nn

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(REPO, "models", "export"))
sys.path.insert(0, os.path.join(REPO, "models", "training"))

import llava_onnx  # noqa: E402
import make_tiny_vla as tiny  # noqa: E402

DS_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
              "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
VISION = dict(image_size=56, patch_size=28, hidden_size=32, intermediate_size=64,
              num_hidden_layers=2, num_attention_heads=2, num_channels=3, hidden_act="gelu",
              layer_norm_eps=1e-5)
TEXT = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, vocab_size=300, hidden_act="silu",
            rms_norm_eps=1e-5, rope_theta=500000.0, rope_scaling=DS_SCALING,
            max_position_embeddings=4096)
IMAGE_ID = 5


def small_model(seed=0, **text):
    """A tiny LLaVA in the new transformers layout: 2x2 patches -> 4 image tokens, GQA 4/2."""
    torch.manual_seed(seed)
    return tiny.build_model(seed, vision=VISION, text={**TEXT, **text},
                            image_token_index=IMAGE_ID)


class CausalLM(nn.Module):
    def __init__(self, model, lm_head):
        super().__init__()
        self.model = model
        self.lm_head = lm_head


class OldLayoutLlava(nn.Module):
    """The old transformers layout: model.{vision_tower, multi_modal_projector},
    model.language_model.{model, lm_head}."""

    def __init__(self, new):
        super().__init__()
        self.config = new.config
        self.vision_tower = new.model.vision_tower
        self.multi_modal_projector = new.model.multi_modal_projector
        self.language_model = CausalLM(new.model.language_model, new.lm_head)


def image_prompt(model, length, seed=1):
    """Random token ids with the image tokens expanded at index 2, and the image features."""
    gen = torch.Generator().manual_seed(seed)
    image_tokens = llava_onnx.image_seq_length(model.config)
    ids = torch.randint(10, TEXT["vocab_size"], (length,), generator=gen)
    ids = torch.cat([ids[:2], torch.full((image_tokens,), IMAGE_ID), ids[2:]])
    pixels = torch.randn(1, 3, VISION["image_size"], VISION["image_size"], generator=gen)
    with torch.no_grad():
        features = model.image_features(pixels)
    return ids, features, pixels


def run_cached(decoder, embeds, chunks, offset=0):
    """Feeds `embeds` [1, n, h] through the cached decoder in chunks of the given sizes,
    starting from an empty (past = 0) cache; returns the logits of every position."""
    layout_past = [torch.zeros(1, decoder.dims.kv_heads, 0, decoder.dims.head_dim)
                   for _ in range(2 * decoder.dims.layers)]
    past, logits, start = layout_past, [], 0
    with torch.no_grad():
        for size in chunks:
            end = start + size
            out = decoder(embeds[:, start:end], torch.ones(1, end, dtype=torch.int64),
                          torch.arange(start, end)[None] + offset, *past)
            logits.append(out[0][0])
            past = out[1:]
            start = end
    assert start == embeds.shape[1]
    return torch.cat(logits), past


class LayoutTest(unittest.TestCase):
    def test_new_layout(self):
        model = small_model()
        layout = llava_onnx.resolve_layout(model)
        self.assertEqual(layout.kind, "new")
        self.assertIs(layout.vision_tower, model.model.vision_tower)
        self.assertIs(layout.projector, model.model.multi_modal_projector)
        self.assertIs(layout.language_model, model.model.language_model)
        self.assertIs(layout.embed_tokens, model.model.language_model.embed_tokens)
        self.assertIs(layout.lm_head, model.lm_head)

    def test_old_layout(self):
        new = small_model()
        old = OldLayoutLlava(new)
        layout = llava_onnx.resolve_layout(old)
        self.assertEqual(layout.kind, "old")
        self.assertIs(layout.vision_tower, new.model.vision_tower)
        self.assertIs(layout.projector, new.model.multi_modal_projector)
        self.assertIs(layout.language_model, new.model.language_model)
        self.assertIs(layout.lm_head, new.lm_head)
        # Both layouts give the same graphs' modules.
        embeds = torch.randn(1, 6, TEXT["hidden_size"])
        a, _ = run_cached(llava_onnx.Decoder(layout), embeds, [6])
        b, _ = run_cached(llava_onnx.Decoder(llava_onnx.resolve_layout(new)), embeds, [6])
        self.assertTrue(torch.equal(a, b))

    def test_not_llava(self):
        with self.assertRaisesRegex(ValueError, "not a LLaVA module tree"):
            llava_onnx.resolve_layout(nn.Linear(2, 2))
        broken = small_model()
        del broken.model.language_model.norm
        with self.assertRaisesRegex(ValueError, "no `norm`"):
            llava_onnx.resolve_layout(broken)


class DecoderTest(unittest.TestCase):
    def check_cache_equals_full(self, model, offset):
        ids, features, _ = image_prompt(model, 14)
        with torch.no_grad():
            full = model(ids, features, torch.arange(len(ids)) + offset)
            embeds = model.embed(ids, features)[None]
        decoder = llava_onnx.Decoder(llava_onnx.resolve_layout(model)).eval()
        n = len(ids)
        # Prefill from an empty cache, single-token steps, then a multi-token chunk.
        cached, past = run_cached(decoder, embeds, [n - 8, 1, 1, 1, 5], offset)
        text = model.config.text_config
        self.assertEqual(tuple(past[0].shape), (1, text.num_key_value_heads, n, text.head_dim))
        err = float((cached - full).abs().max())
        self.assertLess(err, 1e-5, f"KV-cache logits differ from the full forward by {err}")
        return full

    def test_cache_equals_full_forward_gqa_llama3(self):
        model = small_model()
        self.assertEqual(model.config.text_config.num_key_value_heads, 2)  # 4 heads: GQA
        full = self.check_cache_equals_full(model, offset=3000)
        # The llama3 scaling matters at these positions: without it the logits differ.
        plain = small_model(rope_scaling=None)
        ids, features, _ = image_prompt(plain, 14)
        with torch.no_grad():
            unscaled = plain(ids, features, torch.arange(len(ids)) + 3000)
        self.assertGreater(float((unscaled - full).abs().max()), 1e-3)

    def test_cache_equals_full_forward_mha_default_rope(self):
        self.check_cache_equals_full(
            small_model(seed=3, num_key_value_heads=4, rope_scaling=None, rope_theta=10000.0),
            offset=0,
        )

    def test_attention_mask_hides_padding(self):
        model = small_model()
        ids, features, _ = image_prompt(model, 6)
        with torch.no_grad():
            full = model(ids, features)
            embeds = model.embed(ids, features)[None]
        decoder = llava_onnx.Decoder(llava_onnx.resolve_layout(model)).eval()
        pad = 3
        padded = torch.cat([torch.randn(1, pad, TEXT["hidden_size"]) * 10, embeds], dim=1)
        n = embeds.shape[1]
        mask = torch.cat([torch.zeros(1, pad, dtype=torch.int64),
                          torch.ones(1, n, dtype=torch.int64)], dim=1)
        positions = torch.cat([torch.zeros(1, pad, dtype=torch.int64), torch.arange(n)[None]], 1)
        with torch.no_grad():
            out = decoder(padded, mask, positions, *llava_onnx.empty_past(
                llava_onnx.resolve_layout(model)))
        self.assertLess(float((out[0][0, pad:] - full).abs().max()), 1e-5)

    def test_llama3_inv_freq_matches_reference(self):
        # DeepSeek-R1-Distill-Llama-8B: head_dim 128, theta 500000, llama3 factor 8.
        ours, scaling = llava_onnx.rope_inv_freq(128, 500000.0, DS_SCALING)
        self.assertEqual(scaling, 1.0)
        reference = tiny.llama3_reference_inv_freq(128, 500000.0, DS_SCALING)
        self.assertTrue(torch.allclose(ours, reference, rtol=1e-6, atol=0))
        base, _ = llava_onnx.rope_inv_freq(128, 500000.0, None)
        wavelen = 2 * math.pi / base
        high = wavelen < 8192 / 4
        low = wavelen > 8192 / 1
        self.assertTrue(torch.equal(ours[high], base[high]))
        self.assertTrue(torch.allclose(ours[low], base[low] / 8, rtol=1e-7))
        medium = ~high & ~low
        self.assertTrue(bool(medium.any()))
        self.assertTrue(bool(((ours[medium] < base[medium]) &
                              (ours[medium] > base[medium] / 8)).all()))
        with self.assertRaisesRegex(ValueError, "yarn"):
            llava_onnx.rope_inv_freq(128, 500000.0, {"rope_type": "yarn", "factor": 4.0})

    def test_rope_settings_forms(self):
        self.assertEqual(llava_onnx.rope_settings({"rope_theta": 5.0}), (5.0, None))
        theta, scaling = llava_onnx.rope_settings(
            {"rope_theta": 7.0, "rope_scaling": {"type": "linear", "factor": 2.0}})
        self.assertEqual((theta, scaling), (7.0, {"rope_type": "linear", "factor": 2.0}))
        theta, scaling = llava_onnx.rope_settings(
            {"rope_parameters": {"rope_theta": 500000.0, **DS_SCALING}})  # transformers 5
        self.assertEqual((theta, scaling), (500000.0, DS_SCALING))
        self.assertEqual(llava_onnx.rope_settings({"rope_parameters": {
            "rope_theta": 9.0, "rope_type": "default"}}), (9.0, None))

    def test_vision_encoder_select_strategies(self):
        model = small_model()
        _, features, pixels = image_prompt(model, 1)
        layout = llava_onnx.resolve_layout(model)
        with torch.no_grad():
            out = llava_onnx.VisionEncoder(layout)(pixels)
            self.assertEqual(tuple(out.shape), (1, 4, TEXT["hidden_size"]))
            self.assertTrue(torch.equal(out, features))
            model.config.vision_feature_select_strategy = "full"
            full = llava_onnx.VisionEncoder(layout)(pixels)
        self.assertEqual(llava_onnx.image_seq_length(model.config), 5)
        self.assertEqual(tuple(full.shape), (1, 5, TEXT["hidden_size"]))
        self.assertTrue(torch.allclose(full[:, 1:], out))


class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pons-llava-test-")
        cls.model = small_model()
        cls.paths = llava_onnx.export_graphs(cls.model, os.path.join(cls.tmp, "onnx"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_decoder_signature(self):
        sig = llava_onnx.graph_signature(self.paths["decoder_model_merged"])
        h, kv, d, v = TEXT["hidden_size"], TEXT["num_key_value_heads"], TEXT["head_dim"], 300
        names = list(sig)
        self.assertEqual(names[:3], ["inputs_embeds", "attention_mask", "position_ids"])
        self.assertEqual(names[3:7], ["past_key_values.0.key", "past_key_values.0.value",
                                      "past_key_values.1.key", "past_key_values.1.value"])
        self.assertEqual(names[7:], ["logits", "present.0.key", "present.0.value",
                                     "present.1.key", "present.1.value"])
        self.assertEqual(sig["inputs_embeds"], ("FLOAT", ["batch_size", "sequence_length", h]))
        self.assertEqual(sig["attention_mask"], ("INT64", ["batch_size", "total_sequence_length"]))
        self.assertEqual(sig["position_ids"], ("INT64", ["batch_size", "sequence_length"]))
        self.assertEqual(sig["past_key_values.1.value"],
                         ("FLOAT", ["batch_size", kv, "past_sequence_length", d]))
        self.assertEqual(sig["logits"], ("FLOAT", ["batch_size", "sequence_length", v]))
        self.assertEqual(sig["present.1.key"],
                         ("FLOAT", ["batch_size", kv, "total_sequence_length", d]))

    def test_vision_and_embed_signatures(self):
        vision = llava_onnx.graph_signature(self.paths["vision_encoder"])
        self.assertEqual(vision, {
            "pixel_values": ("FLOAT", ["batch_size", 3, 56, 56]),
            "image_features": ("FLOAT", ["batch_size", 4, TEXT["hidden_size"]]),
        })
        embed = llava_onnx.graph_signature(self.paths["embed_tokens"])
        self.assertEqual(embed, {
            "input_ids": ("INT64", ["batch_size", "sequence_length"]),
            "inputs_embeds": ("FLOAT", ["batch_size", "sequence_length", TEXT["hidden_size"]]),
        })

    def test_checked_opset_and_producer(self):
        for path in self.paths.values():
            llava_onnx.check_onnx(path)
            import onnx

            proto = onnx.load(path)
            self.assertEqual(proto.producer_name, "pons models/export")
            self.assertEqual([(o.domain, o.version) for o in proto.opset_import], [("", 17)])

    def test_export_is_deterministic(self):
        again = llava_onnx.export_graphs(self.model, os.path.join(self.tmp, "again"))
        for graph, path in self.paths.items():
            with open(path, "rb") as a, open(again[graph], "rb") as b:
                self.assertEqual(a.read(), b.read(), graph)

    def test_config_json(self):
        config = llava_onnx.llava_config(self.model.config)
        self.assertEqual(config["architectures"], ["LlavaForConditionalGeneration"])
        self.assertEqual(config["image_token_index"], IMAGE_ID)
        self.assertEqual(config["image_seq_length"], 4)
        self.assertEqual(config["text_config"]["head_dim"], 16)
        self.assertEqual(config["text_config"]["rope_scaling"], DS_SCALING)
        self.assertEqual(config["vision_config"]["patch_size"], 28)

    @unittest.skipUnless(
        shutil.which("node")
        and os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node")),
        "node and node_modules/onnxruntime-node are needed to run the graphs",
    )
    def test_decoder_runs_in_onnxruntime_from_empty_past(self):
        ids, features, _ = image_prompt(self.model, 5)
        with torch.no_grad():
            full = self.model(ids, features)
            embeds = self.model.embed(ids, features)[None]
        n = embeds.shape[1]
        kv, d = TEXT["num_key_value_heads"], TEXT["head_dim"]
        # Prefill all but the last position from an empty cache, then one cached step.
        feeds = {
            "inputs_embeds": ("float32", [1, n - 1, TEXT["hidden_size"]],
                              embeds[:, : n - 1].reshape(-1).tolist()),
            "attention_mask": ("int64", [1, n - 1], [1] * (n - 1)),
            "position_ids": ("int64", [1, n - 1], list(range(n - 1))),
        }
        for i in range(TEXT["num_hidden_layers"]):
            for name in ("key", "value"):
                feeds[f"past_key_values.{i}.{name}"] = ("float32", [1, kv, 0, d], [])
        step = {
            "inputs_embeds": ("float32", [1, 1, TEXT["hidden_size"]],
                              embeds[:, n - 1:].reshape(-1).tolist()),
            "attention_mask": ("int64", [1, n], [1] * n),
            "position_ids": ("int64", [1, 1], [n - 1]),
        }
        script = r"""
const { createRequire } = await import('node:module');
const require = createRequire(process.argv[1] + '/package.json');
const ort = require('onnxruntime-node');
const job = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const tensor = ([type, dims, data]) => new ort.Tensor(type,
  type === 'int64' ? BigInt64Array.from(data.map(BigInt)) : Float32Array.from(data), dims);
const feeds = (f) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, tensor(v)]));
const dec = await ort.InferenceSession.create(job.decoder);
const first = await dec.run(feeds(job.prefill));
const next = feeds(job.step);
for (const name of dec.inputNames) if (name.startsWith('past_key_values.'))
  next[name] = first[name.replace('past_key_values.', 'present.')];
const second = await dec.run(next);
const out = (t) => ({ dims: t.dims, data: Array.from(t.data) });
console.log(JSON.stringify({ prefill: out(first.logits), step: out(second.logits),
  present: out(second['present.0.key']).dims }));
"""
        job = {"decoder": self.paths["decoder_model_merged"], "prefill": feeds, "step": step}
        result = subprocess.run(["node", "--input-type=module", "-e", script, "--", REPO],
                                input=json.dumps(job), capture_output=True, text=True,
                                check=True, timeout=60)
        got = json.loads(result.stdout)
        v = TEXT["vocab_size"]
        self.assertEqual(got["prefill"]["dims"], [1, n - 1, v])
        self.assertEqual(got["step"]["dims"], [1, 1, v])
        self.assertEqual(got["present"], [1, kv, n, d])
        logits = torch.tensor(got["prefill"]["data"] + got["step"]["data"]).reshape(n, v)
        self.assertLess(float((logits - full).abs().max()), 1e-4)


class ActionTokensTest(unittest.TestCase):
    PLANAR = {"type": "uniform", "bins": 256, "vocab_size": 4096, "id_offset": 0}

    def test_range_from_spec_tokenizer(self):
        self.assertEqual(llava_onnx.action_tokens(self.PLANAR, 24, 4096),
                         {"count": 24, "first_id": 3840, "last_id": 4095})
        # OpenVLA on Llama 2: 32000 ids, 256 bins counted down from the end.
        self.assertEqual(llava_onnx.action_tokens(
            {"bins": 256, "vocab_size": 32000, "id_offset": 0}, 7, 32064),
            {"count": 7, "first_id": 31744, "last_id": 31999})
        self.assertEqual(llava_onnx.action_tokens({**self.PLANAR, "id_offset": 10}, 24, 4096),
                         {"count": 24, "first_id": 3830, "last_id": 4085})

    def test_refuses_range_outside_vocabulary(self):
        with self.assertRaisesRegex(ValueError, "outside the model's vocabulary"):
            llava_onnx.action_tokens(self.PLANAR, 24, 4000)
        with self.assertRaisesRegex(ValueError, "outside the model's vocabulary"):
            llava_onnx.action_tokens({**self.PLANAR, "vocab_size": 200}, 24, 4096)

    def test_pons_json_layout(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "pons.json")
            llava_onnx.write_pons(
                path, name="x", description="d", action_spec="../spec.yaml", spec_id="0" * 64,
                tokens={"count": 24, "first_id": 3840, "last_id": 4095},
                prompt_user="<image>\n{instruction}", modes=("autoregressive", "parallel"),
                placeholder_id=7, training={"trained": False})
            with open(path, encoding="utf-8") as f:
                manifest = json.load(f)
        self.assertEqual(list(manifest), ["kind", "name", "description", "action_spec",
                                          "spec_id", "action_tokens", "prompt", "decoding",
                                          "training"])
        self.assertEqual(manifest["decoding"], {"default": "autoregressive", "modes": [
            "autoregressive", "parallel"], "placeholder_id": 7})
        self.assertEqual(manifest["prompt"], {"user": "<image>\n{instruction}",
                                              "add_special_tokens": False})
        with self.assertRaisesRegex(ValueError, "placeholder"):
            llava_onnx.write_pons(path, name="x", description="d", action_spec="s",
                                  spec_id="0" * 64, tokens={}, prompt_user="{instruction}",
                                  modes=("parallel",), default="parallel")


class BpeTest(unittest.TestCase):
    def test_bpe_merges_by_rank_not_position(self):
        ranks = {("a", "b"): 0, ("ab", "c"): 1, ("Ġ", "a"): 2}
        self.assertEqual(tiny.bpe("abc", ranks), ["abc"])
        # (a, b) outranks (Ġ, a) although it comes later in the word.
        self.assertEqual(tiny.bpe("Ġab", ranks), ["Ġ", "ab"])
        self.assertEqual(tiny.bpe("Ġac", ranks), ["Ġa", "c"])
        # All occurrences of a pair merge left to right, without overlap.
        self.assertEqual(tiny.bpe("aaaaa", {("a", "a"): 0}), ["aa", "aa", "a"])
        self.assertEqual(tiny.bpe("aaaa", {("a", "a"): 0, ("aa", "aa"): 1}), ["aaaa"])
        self.assertEqual(tiny.bpe("x", ranks), ["x"])

    def test_gpt2_pre_tokenization_and_bytes(self):
        words = tiny.GPT2_PATTERN.findall("it's 42 robots!\n\nok  go ")
        self.assertEqual(words, ["it", "'s", " 42", " robots", "!", "\n", "\n", "ok", " ",
                                 " go", " "])
        self.assertEqual(tiny.pre_tokenize(" a\n\n"), ["Ġa", "ĊĊ"])
        self.assertEqual(tiny.BYTE_CHARS[ord(" ")], "Ġ")
        self.assertEqual(tiny.BYTE_CHARS[ord("\n")], "Ċ")
        self.assertEqual(tiny.BYTE_CHARS[ord("A")], "A")
        self.assertEqual(len(set(tiny.BYTE_CHARS.values())), 256)
        with self.assertRaisesRegex(ValueError, "ASCII"):
            tiny.pre_tokenize("café")

    def test_added_tokens_split_leftmost_longest(self):
        added = ["<|reserved_1|>", "<|reserved_10|>", "<image>"]
        self.assertEqual(tiny.split_added("a<|reserved_10|><image>\nb", added),
                         [("a", False), ("<|reserved_10|>", True), ("<image>", True),
                          ("\nb", False)])

    def test_train_bpe_hand_worked(self):
        # Words: "ab" x1, " ab" x2, "abc" x1. Pairs: (a,b) 4, (Ġ,a) 2, (b,c) 1 -> "a b";
        # then (Ġ,ab) 2, (ab,c) 1 -> "Ġ ab"; then only (ab,c) 1 < 2: stop.
        self.assertEqual(tiny.train_bpe(["ab ab ab", "abc"], ["<image>"], 10), ["a b", "Ġ ab"])
        self.assertEqual(tiny.train_bpe(["ab ab ab"], [], 1), ["a b"])

    def test_encoder_with_hand_made_vocabulary(self):
        merges = ["a b", "Ġ ab", "ab c"]
        vocab = {t: i for i, t in enumerate(["a", "b", "c", "Ġ", "ab", "Ġab", "abc", "Ċ"])}
        enc = tiny.BpeTokenizer(vocab, merges, [("<x>", 100)])
        self.assertEqual(enc.tokens("abc ab<x>\nab"), ["abc", "Ġab", "<x>", "Ċ", "ab"])
        self.assertEqual(enc.encode("abc ab<x>\nab"), [6, 5, 100, 7, 4])

    def test_tiny_vla_tokenizer(self):
        tokenizer, tokenizer_json, config, merges = tiny.build_tokenizer()
        vocab = tokenizer_json["model"]["vocab"]
        self.assertEqual(sorted(vocab.values()), list(range(4096)))
        added = {t["content"]: t["id"] for t in tokenizer_json["added_tokens"]}
        self.assertEqual([added[t] for t in tiny.SPECIAL_TOKENS], list(range(8)))
        self.assertEqual(added["<image>"], 5)
        self.assertEqual(added["<|action_query|>"], 7)
        self.assertEqual(added["<act_0>"], 3840)
        self.assertEqual(added["<act_255>"], 4095)
        self.assertTrue(all(t["special"] for t in tokenizer_json["added_tokens"]))
        self.assertEqual(vocab["Ġ"], 8 + 32)
        self.assertEqual(tokenizer_json["pre_tokenizer"], {
            "type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
            "use_regex": True})
        self.assertEqual(config["eos_token"], "<|eot_id|>")
        # Instruction words are whole tokens; the byte-level strings decode back.
        tokens = tokenizer.tokens(" reach the red block")
        self.assertEqual(tokens, ["Ġreach", "Ġthe", "Ġred", "Ġblock"])
        unbyte = {c: b for b, c in tiny.BYTE_CHARS.items()}
        text = "move the purple cube 3 cm left, then stop!"
        ids = tokenizer.encode(text)
        inverse = {i: t for t, i in vocab.items()}
        self.assertEqual(bytes(unbyte[c] for i in ids for c in inverse[i]).decode(), text)
        self.assertEqual(tokenizer.encode("<act_3><|action_query|>"), [3843, 7])

    def test_prompt_and_golden_ids(self):
        try:
            import jinja2  # noqa: F401
        except ImportError:
            self.skipTest("python3-jinja2 renders the chat template")
        tokenizer, *_ = tiny.build_tokenizer()
        prompt = tiny.render_prompt(tiny.PROMPT_USER.format(instruction="reach the red block"))
        self.assertEqual(prompt, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
                         "<image>\nWhat action should the robot take to reach the red block?"
                         "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        ids = tokenizer.encode(prompt)
        self.assertEqual(ids[:2], [0, 2])
        self.assertEqual(ids.count(5), 1)
        golden = os.path.join(REPO, "models", "tiny-vla", "golden.json")
        if os.path.exists(golden):
            with open(golden, encoding="utf-8") as f:
                case = json.load(f)["cases"][0]
            self.assertEqual(case["prompt_text"], prompt)
            self.assertEqual(case["input_ids"], ids)


class ExportLlavaCliTest(unittest.TestCase):
    def test_without_transformers_one_line_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            fake = os.path.join(tmp, "transformers")
            os.makedirs(fake)
            with open(os.path.join(fake, "__init__.py"), "w") as f:
                f.write("raise ImportError('transformers is not installed (test)')\n")
            env = dict(os.environ, PYTHONPATH=tmp)
            result = subprocess.run(
                [sys.executable, os.path.join(REPO, "models", "export", "export_llava.py"),
                 "--checkpoint", os.path.join(tmp, "none"), "--action-spec",
                 os.path.join(REPO, "calibration", "planar-arm", "action_spec.yaml"),
                 "--out", os.path.join(tmp, "out")],
                capture_output=True, text=True, env=env, timeout=60,
            )
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stdout, "")
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn("transformers", lines[0])
        self.assertIn("pip install", lines[0])


if __name__ == "__main__":
    unittest.main()
