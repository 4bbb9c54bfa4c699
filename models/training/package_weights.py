"""A brain package's weights back into the PyTorch modules of make_tiny_vla.py.

The exporter (models/export/llava_onnx.py) writes each weight either under its parameter's
name or, where it folded a transpose or reshape into a constant, under an anonymous name
(`onnx::MatMul_193`). To read any package in that format back, a seeded model of the
package's config.json is exported the same way; every initializer of that reference export
is matched to the parameter it came from by its bytes (as is, transposed, or reshaped), and
the base package's initializer of the same name is loaded through the same transform.
Parameters the graphs do not use (CLIP's last layer when vision_feature_layer is -2) keep
their seeded values.
"""

import json
import math
import os
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

import llava_onnx
import make_tiny_vla

GRAPH_FILES = {g: f"{g}.onnx" for g in llava_onnx.GRAPHS}
VISION_KEYS = ("image_size", "patch_size", "hidden_size", "intermediate_size",
               "num_hidden_layers", "num_attention_heads", "num_channels", "hidden_act",
               "layer_norm_eps")
TEXT_KEYS = tuple(make_tiny_vla.TEXT)


def read_config(package_dir):
    path = os.path.join(package_dir, "config.json")
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    for section, keys in (("vision_config", VISION_KEYS), ("text_config", TEXT_KEYS)):
        missing = [k for k in keys if k not in config.get(section, {})]
        if missing:
            raise ValueError(f"{path}: {section} lacks {', '.join(missing)}")
    return config


def model_for(config, seed=0, vision=None):
    """A seeded TinyLlava with the config's dimensions (`vision` overrides vision keys)."""
    v = {k: config["vision_config"][k] for k in VISION_KEYS}
    v.update(vision or {})
    t = {k: config["text_config"][k] for k in TEXT_KEYS}
    return make_tiny_vla.build_model(seed, v, t, config["image_token_index"])


def initializers(onnx_dir):
    """{(graph, name): numpy array} of the three graphs."""
    out = {}
    for graph, file in GRAPH_FILES.items():
        path = os.path.join(onnx_dir, file)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: the package has no {graph} graph")
        for t in onnx.load(path).graph.initializer:
            out[(graph, t.name)] = numpy_helper.to_array(t)
    return out


def parameter_sources(model):
    """{(graph, initializer name): (parameter name, transposed)}: which parameter each
    initializer of `model`'s export holds, found by value (the seeded values are distinct)."""
    by_bytes = {}
    for name, p in model.named_parameters():
        a = p.detach().numpy()
        by_bytes[a.tobytes()] = (name, False)
        if a.ndim == 2:
            by_bytes[np.ascontiguousarray(a.T).tobytes()] = (name, True)
    with tempfile.TemporaryDirectory() as tmp:
        llava_onnx.export_graphs(model, tmp)
        reference = initializers(tmp)
    sources, constants = {}, {}
    for key, value in reference.items():
        found = by_bytes.get(np.ascontiguousarray(value).tobytes())
        if found is None:
            constants[key] = value
        else:
            sources[key] = found
    return sources, constants


def load_package_weights(model, package_dir, log=print):
    """Copies the package's weights into `model` (built by `model_for` from its config).
    Returns the names of parameters the graphs do not hold. Raises ValueError when the
    package's graphs do not have the layout this model exports to."""
    onnx_dir = os.path.join(package_dir, "onnx")
    base = initializers(onnx_dir)
    sources, constants = parameter_sources(model)
    missing = sorted({k for k in sources} - set(base))
    if missing:
        raise ValueError(f"{onnx_dir}: initializers {missing[:3]} of the exporter's layout are "
                         "missing (exported by another exporter or torch version?)")
    for key, value in constants.items():
        if key not in base or not np.array_equal(base[key], value):
            raise ValueError(f"{onnx_dir}/{key[0]}.onnx: initializer {key[1]} is neither a "
                             "parameter nor the constant the exporter writes")
    params = dict(model.named_parameters())
    loaded = set()
    with torch.no_grad():
        for key, (name, transposed) in sources.items():
            value = base[key]
            p = params[name]
            value = value.T if transposed else value.reshape(p.shape)
            if tuple(value.shape) != tuple(p.shape):
                raise ValueError(f"{onnx_dir}/{key[0]}.onnx: {key[1]} has shape "
                                 f"{list(base[key].shape)}, {name} is {list(p.shape)}")
            p.copy_(torch.from_numpy(np.array(value)))
            loaded.add(name)
    unused = [n for n in params if n not in loaded]
    log(f"loaded {len(loaded)} parameters from {onnx_dir}; not in the graphs (unused): "
        f"{len(unused)}")
    return unused


def transplant(source, target, log=print):
    """Copies `source`'s parameters into `target` (same architecture, maybe another image
    size): same-shaped ones as they are; the vision position embeddings resampled bicubically
    over the patch grid (the CLS position kept), as CLIP is moved to a new resolution."""
    params = dict(target.named_parameters())
    resampled = []
    with torch.no_grad():
        for name, p in source.named_parameters():
            q = params[name]
            if q.shape == p.shape:
                q.copy_(p)
            elif name.endswith("embeddings.position_embedding.weight"):
                q.copy_(resample_positions(p, q.shape[0]))
                resampled.append(name)
            else:
                raise ValueError(f"{name}: {list(p.shape)} in the base, {list(q.shape)} here")
    if resampled:
        log(f"position embeddings resampled to {params[resampled[0]].shape[0] - 1} patches")


def resample_positions(weight, count):
    """[1 + n*n, d] position embeddings (CLS first) -> [count, d], count = 1 + m*m."""
    old, new = round(math.sqrt(weight.shape[0] - 1)), round(math.sqrt(count - 1))
    if old * old + 1 != weight.shape[0] or new * new + 1 != count:
        raise ValueError(f"position embeddings {weight.shape[0]} -> {count}: not square grids")
    grid = weight[1:].reshape(old, old, -1).permute(2, 0, 1)[None]
    grid = torch.nn.functional.interpolate(grid, size=(new, new), mode="bicubic",
                                           align_corners=False)
    return torch.cat([weight[:1], grid[0].permute(1, 2, 0).reshape(new * new, -1)])
