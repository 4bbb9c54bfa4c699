"""package_weights: a package's weights read back from its ONNX initializers."""

import unittest

import torch
from repo_paths import TINY_VLA  # first: it puts the scripts on sys.path

import make_tiny_vla
import package_weights


class PackageWeightsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.config = package_weights.read_config(TINY_VLA)
        cls.model = package_weights.model_for(cls.config, seed=7)  # not tiny-vla's seed
        cls.unused = package_weights.load_package_weights(cls.model, TINY_VLA, lambda *_: None)
        cls.reference = make_tiny_vla.build_model(0, image_token_index=5)

    def test_every_exported_weight_is_tiny_vlas(self):
        ref = dict(self.reference.named_parameters())
        for name, p in self.model.named_parameters():
            if name in self.unused:
                continue
            self.assertTrue(torch.equal(p, ref[name]), name)

    def test_only_the_unused_clip_layer_is_left_out(self):
        self.assertTrue(self.unused)
        for name in self.unused:
            self.assertTrue("encoder.layers.1." in name or "post_layernorm" in name, name)

    def test_a_new_image_size_resamples_positions_and_keeps_cls(self):
        resized = package_weights.model_for(self.config, vision={"image_size": 224})
        package_weights.transplant(self.model, resized, lambda *_: None)
        old = self.model.model.vision_tower.embeddings.position_embedding.weight
        new = resized.model.vision_tower.embeddings.position_embedding.weight
        self.assertEqual(tuple(new.shape), (65, 96))
        self.assertTrue(torch.equal(new[0], old[0]))
        self.assertTrue(torch.equal(resized.lm_head.weight, self.model.lm_head.weight))

    def test_a_graph_from_another_layout_is_refused(self):
        other = package_weights.model_for(
            dict(self.config, text_config=dict(self.config["text_config"], num_hidden_layers=3)))
        with self.assertRaisesRegex(ValueError, "missing|neither a parameter"):
            package_weights.load_package_weights(other, TINY_VLA, lambda *_: None)


if __name__ == "__main__":
    unittest.main()
