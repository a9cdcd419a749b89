"""Where the benchmark data sets live on this machine."""

import os
from pathlib import Path

#: Environment variable that names the data folder.
DATA_ENV = "FISHDIP_DATA"


def get_data_home(data_home=None):
    """The folder holding the benchmark data sets.

    The package ships no data: CoNLL-2003 and CoNLL04 are read from a folder
    with ``conll2003/{train,valid,test}.txt`` and
    ``conll04/{train,dev,test}.json`` (the layout of the project's shared
    data). Nothing is downloaded.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        The folder. None reads the ``FISHDIP_DATA`` environment variable and
        falls back to ``~/fishdip_data``.

    Returns
    -------
    path : pathlib.Path
        The folder, with ``~`` expanded. It is not checked or created: the
        readers say which file is missing.

    Examples
    --------
    >>> from sklearn_fishdip.datasets import get_data_home
    >>> str(get_data_home("/data/fishdip"))
    '/data/fishdip'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_ENV) or Path("~") / "fishdip_data"
    if not isinstance(data_home, (str, os.PathLike)):
        raise TypeError(f"data_home must be a path or None; got {type(data_home).__name__}.")
    return Path(data_home).expanduser()
