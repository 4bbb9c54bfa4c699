"""What the training scripts see when run: models/export and models/training on sys.path."""

import os
import sys

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(os.path.dirname(TRAINING))
TINY_VLA = os.path.join(REPO, "models", "tiny-vla")
sys.path.insert(0, os.path.join(REPO, "models", "export"))
sys.path.insert(0, TRAINING)
