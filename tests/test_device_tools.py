"""Tests of benchmarks/device_carry.py and benchmarks/device_waves.py.

They build their own tiny checkpoint, packages and CoNLL files in tmp_path:
nothing from ../shared/data is read and no GPU is needed.
"""

import json
import sys
import tarfile

import pytest
import torch
from safetensors.torch import load_file

from sklearn_fishdip.utils._testing import make_tiny_bert

# The tiny CoNLL files and T5 of the low_resource.py tests, as fixtures.
from .test_benchmarks import _load, data_dir, tiny_model  # noqa: F401


@pytest.fixture(scope="module")
def carry():
    return _load("device_carry")


@pytest.fixture(scope="module")
def waves():
    return _load("device_waves")


def test_epochs_are_counted_from_progress_bar_starts(waves):
    log = (
        "conll04 0.05 seed 1 fish-dip ...\n"
        "\r  0%|          | 0/2 [00:00<?, ?it/s]\r 50%|#####     | 1/2 [00:05<00:05]"
        "\r100%|##########| 2/2 [00:07<00:00]\n"
        "\r  0%|          | 0/2 [00:00<?, ?it/s]\r 50%|#####     | 1/2 [00:06<00:06]\n"
        "Loading weights: 100%| 103/103 [00:00<00:00]\n"
    )
    assert waves.epochs_started(log, 800) == 2
    assert waves.epochs_started("", 800) == 0
    # a run of one epoch: the second bar is the test set being tagged
    assert waves.epochs_started(log, 1) == 1


def test_projection_uses_the_recent_rate(waves):
    # 10 epochs in the last 50 s (the start, with loading, is not in the window).
    points = [(0.0, 0), (50.0, 10), (100.0, 20)]
    assert waves.projected_end(points, 100, 60.0) == pytest.approx(100 + 80 / 0.2 + 60)
    assert waves.projected_end([(0.0, 0), (30.0, 2)], 100, 60.0) is None  # too early
    assert waves.projected_end([(0.0, 5), (50.0, 6)], 100, 60.0) is None  # no rate yet


def test_a_wave_starts_only_when_everything_ends_before_the_deadline(waves):
    # One run ends at 560 with 80% left; a second process doubles what is left
    # (ends at 1020), and a new run lasts 575 s stretched twice after 30 s of loading.
    assert waves.wave_fits(100.0, [560.0], [0.8], 1, deadline=1300.0)
    assert not waves.wave_fits(100.0, [560.0], [0.8], 1, deadline=1200.0)
    assert not waves.wave_fits(100.0, [560.0], [0.8], 1, deadline=1000.0)
    assert waves.wave_fits(100.0, [], [], 4, deadline=101.0)  # nothing running


def test_bad_options_are_refused(waves, capsys):
    with pytest.raises(SystemExit) as exit_info:
        waves.parse_args(["--out", "x", "--budget", "0"])
    assert exit_info.value.code == 2
    assert "--budget" in capsys.readouterr().err
    args, passthrough = waves.parse_args(["--out", "x", "--budget", "5", "--", "--device", "cuda"])
    assert passthrough == ["--device", "cuda"] and args.budget == 5


def test_half_precision_copy_keeps_integers_and_loads_in_fp32(carry, tmp_path):
    model, _ = make_tiny_bert(seed=0)
    model.save_pretrained(tmp_path / "ckpt")
    n = carry.write_stand_in(tmp_path / "site", "stand_in_model", tmp_path / "ckpt")

    original = load_file(tmp_path / "ckpt" / "model.safetensors")
    copied = load_file(tmp_path / "site" / "stand_in_model" / "model" / "model.safetensors")
    assert set(copied) == set(original)
    assert n == sum(t.is_floating_point() for t in original.values()) > 0
    for key, tensor in original.items():
        expected = torch.float16 if tensor.is_floating_point() else tensor.dtype
        assert copied[key].dtype == expected, key
    assert (tmp_path / "site" / "stand_in_model" / "model" / "config.json").is_file()

    sys.path.insert(0, str(tmp_path / "site"))
    try:
        import stand_in_model
    finally:
        sys.path.remove(str(tmp_path / "site"))
        sys.modules.pop("stand_in_model", None)
    reloaded = type(model).from_pretrained(stand_in_model.get_model_path(), dtype=torch.float32)
    for (name, a), (_, b) in zip(model.state_dict().items(), reloaded.state_dict().items()):
        assert b.dtype == a.dtype, name
        torch.testing.assert_close(b, a, rtol=1e-3, atol=1e-3)


def test_half_precision_copy_refuses_a_folder_without_safetensors(carry, tmp_path):
    with pytest.raises(ValueError, match="no model.safetensors"):
        carry.half_precision_copy(tmp_path, tmp_path / "out")


def test_only_pure_python_packages_are_copied(carry, tmp_path, monkeypatch):
    pure = tmp_path / "src" / "pure_pkg"
    (pure / "__pycache__").mkdir(parents=True)
    (pure / "__init__.py").write_text("VALUE = 1\n")
    (pure / "__pycache__" / "x.pyc").write_bytes(b"\0")
    compiled = tmp_path / "src" / "compiled_pkg"
    compiled.mkdir()
    (compiled / "__init__.py").write_text("")
    (compiled / "_ext.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\0")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))

    carry.copy_package("pure_pkg", tmp_path / "site")
    assert (tmp_path / "site" / "pure_pkg" / "__init__.py").read_text() == "VALUE = 1\n"
    assert not (tmp_path / "site" / "pure_pkg" / "__pycache__").exists()
    with pytest.raises(ValueError, match="compiled extensions"):
        carry.copy_package("compiled_pkg", tmp_path / "site")
    with pytest.raises(ValueError, match="not an installed package"):
        carry.copy_package("no_such_package_here", tmp_path / "site")


def test_a_packed_dataset_unpacks_to_the_same_folder(carry, tmp_path):
    source = tmp_path / "shared" / "multiwoz21"
    source.mkdir(parents=True)
    (source / "val.json").write_text('{"d1": []}')
    (source / "test.json").write_text('{"d2": []}')

    archive = carry.pack_dataset(source, tmp_path / "dest" / "data")
    assert archive == tmp_path / "dest" / "data" / "multiwoz21.tar.xz"
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    unpacked = tmp_path / "unpacked" / "multiwoz21"
    assert sorted(p.name for p in unpacked.iterdir()) == ["test.json", "val.json"]
    assert (unpacked / "val.json").read_text() == '{"d1": []}'


def test_only_carried_datasets_can_be_packed(carry, capsys):
    args = carry.parse_args(["--datasets", "conll04,multiwoz21", "--pack", "multiwoz21"])
    assert args.datasets == ["conll04", "multiwoz21"] and args.pack == {"multiwoz21"}
    with pytest.raises(SystemExit) as exit_info:
        carry.parse_args(["--datasets", "conll04", "--pack", "multiwoz21"])
    assert exit_info.value.code == 2
    assert "--pack names multiwoz21" in capsys.readouterr().err


def test_the_carry_folder_is_excluded_once(carry, tmp_path):
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("# git's own comment\n")
    assert carry.ensure_ignored(tmp_path, tmp_path / ".device")
    assert carry.ensure_ignored(tmp_path, tmp_path / ".device")
    lines = (tmp_path / ".git" / "info" / "exclude").read_text().splitlines()
    assert lines == ["# git's own comment", "/.device/"]
    assert not carry.ensure_ignored(tmp_path / "elsewhere", tmp_path / ".device")


def test_waves_run_one_seed_after_another_and_merge_the_runs(
    waves,
    data_dir,  # noqa: F811 (the fixture imported above)
    tiny_model,  # noqa: F811
    tmp_path,
):
    out = tmp_path / "out"
    argv = [
        "--out", str(out), "--budget", "600", "--dataset", "conll2003", "--fractions", "0.5",
        "--seeds", "1,2", "--strategies", "fish-dip", "--epochs", "1", "--poll", "0.5",
        "--settle", "0", "--",
        "--model", tiny_model, "--data-dir", str(data_dir), "--device", "cpu",
        "--batch-size", "2", "--max-test", "2", "--threads", "1",
    ]  # fmt: skip
    merged = waves.main(argv)

    assert merged["failed"] == {}
    assert [(run["seed"], run["strategy"]) for run in merged["runs"]] == [
        (1, "fish-dip"),
        (2, "fish-dip"),
    ]
    for run in merged["runs"]:
        assert "error" not in run, run.get("error")
        assert (run["n_train"], run["n_test"]) == (4, 2) and 0.0 <= run["f1"] <= 1.0
    assert merged["metadata"]["settings"]["epochs"] == 1
    # Seed 2's wave waited for seed 1's: one epoch gives no rate to project from.
    (first, t1), (second, t2) = merged["driver"]["launched"]
    assert (first, second) == ("conll2003_0.5_s1_fish-dip", "conll2003_0.5_s2_fish-dip")
    assert t2 > t1
    assert json.loads((out / "results.json").read_text()) == merged
    # Only the two summaries land in --out: a lent machine returns at most 8 files from it.
    assert sorted(p.name for p in out.iterdir()) == ["progress.txt", "results.json"]
    progress = (out / "progress.txt").read_text()
    assert "conll2003_0.5_s2_fish-dip" in progress and "exit 0" in progress
    assert "left_out" not in merged["driver"]


def test_a_wave_longer_than_the_time_left_is_left_out(
    waves,
    data_dir,  # noqa: F811
    tiny_model,  # noqa: F811
    tmp_path,
):
    # Loading a model alone takes over a second, so seed 1's wave outlasts the
    # one-second budget and seed 2's would end past it.
    argv = [
        "--out", str(tmp_path / "out"), "--budget", "1", "--dataset", "conll2003",
        "--fractions", "0.5", "--seeds", "1,2", "--strategies", "fish-dip", "--epochs", "1",
        "--poll", "0.5", "--settle", "0", "--",
        "--model", tiny_model, "--data-dir", str(data_dir), "--device", "cpu",
        "--batch-size", "2", "--max-test", "2", "--threads", "1",
    ]  # fmt: skip
    merged = waves.main(argv)

    assert [name for name, _ in merged["driver"]["launched"]] == ["conll2003_0.5_s1_fish-dip"]
    assert merged["driver"]["left_out"] == [["0.5", 2, "fish-dip"]]
    assert [(run["seed"], run["strategy"]) for run in merged["runs"]] == [(1, "fish-dip")]
