"""An auxiliary grounding objective for scenes of known block colours (the embedded simulator).

A brain that reaches the wrong block has not tied the instruction's colour word to the patches
that show that colour. This objective asks for that tie directly: after the decoder's first
layer, each image position (which, with the instruction before the image, can attend to the
colour word) is scored by a linear head, and the softmax over the image's patches must match
where the named colour's pixels are. The second layer's action positions can then attend to the
marked patches. The head exists only in training; the exported graphs are the plain model's.

The targets come from the pixels themselves: a pixel within TOLERANCE of the named colour's
RGB (the palette, a {word: [r, g, b]} map) counts for its patch. Rows whose instruction names no
palette colour, or whose block is hidden (under the arm), add nothing.
"""

import numpy as np
import torch

TOLERANCE = 30  # per channel: the renderer's flat block colours, minus antialiased edges
LAYER = 0  # the decoder layer whose output is scored


def colour_word(instruction, palette):
    words = instruction.lower().replace(",", " ").split()
    named = [w for w in words if w in palette]
    return named[0] if named else None


def patch_targets(data, palette, patch, chunk=512):
    """[rows, patches] float32: the share of each patch in the named colour's pixels (rows of
    zeros where there is none)."""
    h, w, _ = data.shape
    grid_h, grid_w = h // patch, w // patch
    out = np.zeros((data.count, grid_h * grid_w), dtype=np.float32)
    rgb = {k: np.asarray(v, dtype=np.int16) for k, v in palette.items()}
    words = [colour_word(r["instruction"], palette) for r in data.rows]
    for s in range(0, data.count, chunk):
        pixels = np.asarray(data.pixels[s: s + chunk], dtype=np.int16)
        for j in range(len(pixels)):
            word = words[s + j]
            if word is None:
                continue
            hit = np.abs(pixels[j] - rgb[word]).max(-1) < TOLERANCE
            counts = hit[: grid_h * patch, : grid_w * patch].reshape(
                grid_h, patch, grid_w, patch).sum((1, 3)).reshape(-1)
            if counts.sum() > 0:
                out[s + j] = counts / counts.sum()
    return out


class Grounding:
    """Captures the decoder layer's output on every forward pass; `loss` scores the last one."""

    def __init__(self, model, train, val, palette, device):
        vision = model.config.vision_config
        self.patches = (vision.image_size // vision.patch_size) ** 2
        self.train_targets = torch.from_numpy(patch_targets(train, palette, vision.patch_size))
        self.val_targets = torch.from_numpy(patch_targets(val, palette, vision.patch_size))
        hidden = model.config.text_config.hidden_size
        self.head = torch.nn.Linear(hidden, 1).to(device)
        self.device = device
        self.captured = None
        layer = model.model.language_model.layers[LAYER]
        self.handle = layer.register_forward_hook(self._capture)

    def _capture(self, _module, _inputs, output):
        self.captured = output

    def parameters(self):
        return self.head.parameters()

    def _scores(self, starts):
        b = torch.arange(len(starts), device=starts.device)[:, None]
        at = starts[:, None] + torch.arange(self.patches, device=starts.device)[None]
        return self.head(self.captured[b, at]).squeeze(-1)  # [b, patches]

    def loss(self, rows, starts, validation=False):
        """Cross-entropy of the patch softmax against the colour's share of each patch, over
        the rows that have a target; 0 when none has."""
        targets = (self.val_targets if validation else self.train_targets)[rows].to(self.device)
        has = targets.sum(-1) > 0
        if not bool(has.any()):
            return torch.zeros((), device=self.device)
        log_p = torch.log_softmax(self._scores(starts), dim=-1)
        return -(targets * log_p).sum(-1)[has].mean()

    def hits(self, rows, starts):
        """(rows whose best-scored patch shows the named colour, rows with a target)."""
        targets = self.val_targets[rows].to(self.device)
        has = targets.sum(-1) > 0
        best = self._scores(starts).argmax(-1)
        hit = targets[torch.arange(len(rows), device=self.device), best] > 0
        return int((hit & has).sum()), int(has.sum())

    def close(self):
        self.handle.remove()
