"""finetune_tiny_vla.smooth_action_embeddings: action ids as a smooth code of their bin."""

import unittest

import torch
from repo_paths import TINY_VLA  # first: it puts the scripts on sys.path

import finetune_tiny_vla
import package_weights

FIRST, LAST = 3840, 4095


class SmoothActionEmbeddingsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        config = package_weights.read_config(TINY_VLA)
        cls.model = package_weights.model_for(config, seed=0)
        cls.before_text = cls.model.model.language_model.embed_tokens.weight[:FIRST].clone()
        cls.before_scale = float(cls.model.lm_head.weight[FIRST:LAST + 1].std())
        finetune_tiny_vla.smooth_action_embeddings(cls.model, FIRST, LAST, seed=0)
        cls.embed = cls.model.model.language_model.embed_tokens.weight[FIRST:LAST + 1].detach()
        cls.head = cls.model.lm_head.weight[FIRST:LAST + 1].detach()

    def test_a_state_token_scores_highest_as_the_same_bin(self):
        # An input embedding read straight out through the head: the peak is its own bin.
        scores = self.embed @ self.head.T
        self.assertTrue(torch.equal(scores.argmax(1), torch.arange(LAST - FIRST + 1)))

    def test_neighbouring_bins_start_out_alike_and_far_ones_do_not(self):
        e = torch.nn.functional.normalize(self.embed, dim=1)
        near = (e[:-1] * e[1:]).sum(1).mean()
        far = (e[:-128] * e[128:]).sum(1).abs().mean()
        self.assertGreater(float(near), 0.85)
        self.assertLess(float(far), 0.1)

    def test_only_the_action_rows_change_and_keep_their_scale(self):
        text = self.model.model.language_model.embed_tokens.weight[:FIRST]
        self.assertTrue(torch.equal(text, self.before_text))
        self.assertAlmostEqual(float(self.head.std()), self.before_scale, places=4)


if __name__ == "__main__":
    unittest.main()
