from pathlib import Path

import pytest

from sklearn_fishdip.datasets import get_data_home


def test_data_home_argument_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("FISHDIP_DATA", "/elsewhere")
    assert get_data_home(tmp_path) == tmp_path
    assert get_data_home(str(tmp_path)) == tmp_path


def test_data_home_from_environment_then_home(monkeypatch):
    monkeypatch.setenv("FISHDIP_DATA", "/srv/data")
    assert get_data_home() == Path("/srv/data")
    monkeypatch.delenv("FISHDIP_DATA")
    assert get_data_home() == Path.home() / "fishdip_data"


def test_data_home_rejects_non_paths():
    with pytest.raises(TypeError, match="data_home must be a path"):
        get_data_home(3)
