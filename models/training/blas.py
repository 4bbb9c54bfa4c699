"""Which BLAS Debian's torch runs on. It calls whichever libblas.so.3 the loader finds first:
the system's alternative (the reference implementation, libblas3, or OpenBLAS once
libopenblas0-pthread is installed, which Debian then prefers) unless a directory holding
another comes first on LD_LIBRARY_PATH. A script picks its own before it imports torch."""

import os
import sys

OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
REFERENCE = "/usr/lib/x86_64-linux-gnu/blas"


def rerun_with(directory):
    """Re-runs this script with `directory`'s libblas.so.3 first on the library path, where
    that directory exists and is not first already (the re-run then returns at once)."""
    paths = os.environ.get("LD_LIBRARY_PATH", "").split(":")
    if os.path.isdir(directory) and paths[0] != directory:
        os.environ["LD_LIBRARY_PATH"] = ":".join([directory, *filter(None, paths)])
        os.execv(sys.executable, [sys.executable, *sys.argv])
