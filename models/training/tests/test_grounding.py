"""grounding.py: the targets and the auxiliary objective."""

import unittest
from types import SimpleNamespace

import numpy as np
import torch
from repo_paths import TINY_VLA  # first: it puts the scripts on sys.path

import grounding
import package_weights

PALETTE = {"red": [220, 40, 40], "blue": [40, 90, 220]}
TABLE = (150, 140, 125)


def frames(instructions, patch=28, grid=4):
    """One table-coloured frame per instruction, a red block straddling patches (1, 1) and
    (1, 2): 20 x 5 pixels in the first, 20 x 15 in the second."""
    size = patch * grid
    pixels = np.empty((len(instructions), size, size, 3), dtype=np.uint8)
    pixels[:] = TABLE
    pixels[:, 30:50, 51:71] = (222, 38, 41)  # within the tolerance of red
    return SimpleNamespace(count=len(instructions), shape=(size, size, 3), pixels=pixels,
                           rows=[{"instruction": i} for i in instructions])


class PatchTargetsTest(unittest.TestCase):
    def test_the_named_colour_share_of_each_patch(self):
        t = grounding.patch_targets(frames(["reach the red block"]), PALETTE, 28)[0]
        self.assertAlmostEqual(float(t.sum()), 1.0, places=6)
        self.assertEqual(list(np.nonzero(t)[0]), [5, 6])  # row 1, columns 1 and 2 of 4
        self.assertAlmostEqual(float(t[5]), 0.25, places=6)
        self.assertAlmostEqual(float(t[6]), 0.75, places=6)

    def test_no_target_when_the_colour_is_absent_or_unnamed(self):
        t = grounding.patch_targets(frames(["reach the blue block", "go home"]), PALETTE, 28)
        self.assertFalse(t.any())


class GroundingObjectiveTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        config = package_weights.read_config(TINY_VLA)
        self.model = package_weights.model_for(config, seed=0)
        patches = 144  # tiny-vla: 336 px / 28 px patches, squared
        data = SimpleNamespace(count=2, shape=(336, 336, 3), rows=[
            {"instruction": "reach the red block"}, {"instruction": "reach the green block"}],
            pixels=np.full((2, 336, 336, 3), TABLE, dtype=np.uint8))
        data.pixels[0, :28, 28:56] = PALETTE["red"]  # patch 1 only
        self.g = grounding.Grounding(self.model, data, data, PALETTE, "cpu")
        self.patches = patches

    def run_decoder(self):
        embeds = torch.randn(2, 10 + self.patches, 128)
        self.model.model.language_model(embeds)

    def test_it_scores_the_first_layer_and_learns_where_the_block_is(self):
        starts, rows = torch.tensor([10, 10]), np.array([0, 1])
        self.run_decoder()
        loss = self.g.loss(rows, starts)
        loss.backward()
        layers = self.model.model.language_model.layers
        self.assertGreater(float(layers[0].mlp.down_proj.weight.grad.abs().sum()), 0)
        self.assertIsNone(layers[1].mlp.down_proj.weight.grad)  # after the tap: untouched
        optimizer = torch.optim.Adam(list(self.g.parameters()), lr=0.05)
        fixed = torch.randn(2, 10 + self.patches, 128)
        for _ in range(60):
            optimizer.zero_grad()
            with torch.no_grad():
                self.model.model.language_model(fixed)
            step = self.g.loss(rows, starts)
            step.backward()
            optimizer.step()
        self.assertLess(float(step), 0.1)
        self.assertEqual(self.g.hits(rows, starts), (1, 1))  # row 1 names no block shown

    def test_close_detaches_the_tap(self):
        self.g.close()
        self.g.captured = None
        self.run_decoder()
        self.assertIsNone(self.g.captured)


if __name__ == "__main__":
    unittest.main()
