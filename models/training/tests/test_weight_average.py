"""finetune_tiny_vla.WeightAverage: the exported moving average of the weights."""

import unittest

import torch
import repo_paths  # noqa: F401  first: it puts the scripts on sys.path

import finetune_tiny_vla


class WeightAverageTest(unittest.TestCase):
    def test_it_ramps_up_then_averages_at_the_decay(self):
        layer = torch.nn.Linear(2, 1, bias=False)
        with torch.no_grad():
            layer.weight.fill_(1.0)
        average = finetune_tiny_vla.WeightAverage(layer, decay=0.9)
        with torch.no_grad():
            layer.weight.fill_(3.0)
        average.update(layer, step=0)  # ramp: decay (1 + 0) / (10 + 0) = 0.1
        self.assertTrue(torch.allclose(average.weights[0], torch.full((1, 2), 2.8)))
        average.update(layer, step=1000)  # past the ramp: 0.9
        self.assertTrue(torch.allclose(average.weights[0], torch.full((1, 2), 0.9 * 2.8 + 0.3)))
        average.copy_to(layer)
        self.assertTrue(torch.equal(layer.weight, average.weights[0]))


if __name__ == "__main__":
    unittest.main()
