"""``fishdip predict`` streams: chunked output equals one-shot output, readers are lazy."""

import io
import json
import os

import pytest

from sklearn_fishdip import FishDipNER, FishDipRelationExtractor
from sklearn_fishdip.tasks.ner._io import iter_ner, read_ner
from sklearn_fishdip.tasks.relations._io import iter_relations, read_relations
from tests.cli._helpers import _check_error, _run, _write_conll, _write_conll04
from tests.estimator_fixtures import NER_X, NER_Y, RE_X, RE_Y


def _one_shot(estimator, path):
    """What predict wrote before it streamed: read all, predict all, one write."""
    X, gold = estimator.files.read(path, gold=False)
    out = io.StringIO()
    estimator.files.write(out, X, estimator.predict(X), gold)
    return out.getvalue()


@pytest.mark.parametrize("chunk_size", [1, 4, 500])
@pytest.mark.parametrize("input_name", ["ner", "ner_tokens"])
def test_chunked_ner_predict_equals_one_shot(
    files, ner_model, tmp_path, capsys, chunk_size, input_name
):
    output = tmp_path / "pred.txt"
    code, _, err = _run(
        capsys, "predict", "--model", ner_model, "--input", files[input_name],
        "--output", output, "--chunk-size", chunk_size,
    )  # fmt: skip
    assert code == 0, err
    assert output.read_text() == _one_shot(FishDipNER.load(ner_model), files[input_name])
    assert not (tmp_path / "pred.txt.part").exists()


@pytest.mark.parametrize("chunk_size", [1, 3, 500])
@pytest.mark.parametrize("input_name", ["re", "re_tokens"])
def test_chunked_relations_predict_equals_one_shot(
    files, re_model, tmp_path, capsys, chunk_size, input_name
):
    output = tmp_path / "pred.json"
    code, _, err = _run(
        capsys, "predict", "--model", re_model, "--input", files[input_name],
        "--output", output, "--chunk-size", chunk_size,
    )  # fmt: skip
    assert code == 0, err
    expected = _one_shot(FishDipRelationExtractor.load(re_model), files[input_name])
    assert output.read_text() == expected


def test_predict_to_stdout_in_chunks(files, ner_model, capsys):
    code, out, err = _run(
        capsys, "predict", "--model", ner_model, "--input", files["ner"], "--chunk-size", 2
    )
    assert code == 0, err
    assert out == _one_shot(FishDipNER.load(ner_model), files["ner"])


def test_bad_line_late_in_the_file_leaves_no_output(files, ner_model, tmp_path, capsys):
    bad = tmp_path / "tokens.txt"
    _write_conll(bad, NER_X)
    with bad.open("a") as handle:
        handle.write("John\nvisited Paris\n")
    n_lines = len(bad.read_text().splitlines())
    output = tmp_path / "pred.txt"
    code, out, err = _run(
        capsys, "predict", "--model", ner_model, "--input", bad, "--output", output,
        "--chunk-size", 1,
    )  # fmt: skip
    _check_error(code, out, err, f"{bad}:{n_lines}: expected one token per line")
    assert not output.exists() and not (tmp_path / "pred.txt.part").exists()


def test_empty_input(ner_model, re_model, tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("-DOCSTART- -X- O O\n\n")
    code, out, err = _run(capsys, "predict", "--model", ner_model, "--input", empty)
    assert (code, out) == (0, ""), err
    empty.write_text("[]\n")
    code, out, err = _run(capsys, "predict", "--model", re_model, "--input", empty)
    assert (code, out) == (0, "[]\n"), err


def test_chunk_size_must_be_positive(files, ner_model, capsys):
    code, _, err = _run(
        capsys, "predict", "--model", ner_model, "--input", files["ner"], "--chunk-size", 0
    )
    assert code == 2 and "positive integer" in err


# --------------------------------------------------------------------------- #
# The lazy readers
# --------------------------------------------------------------------------- #


def test_iter_ner_chunks_concatenate_to_read_ner(tmp_path):
    for name, y in (("tagged.txt", NER_Y), ("tokens.txt", None)):
        path = _write_conll(tmp_path / name, NER_X, y)
        chunks = list(iter_ner(path, chunk_size=4))
        assert [len(X) for X, _ in chunks] == [4, 2]
        X = [tokens for chunk, _ in chunks for tokens in chunk]
        if y is None:
            assert all(chunk_y is None for _, chunk_y in chunks)
            assert read_ner(path) == (X, None)
        else:
            assert read_ner(path) == (X, [tags for _, chunk_y in chunks for tags in chunk_y])


def test_iter_ner_is_lazy(tmp_path):
    # The malformed last line is met only when the reader gets there: the
    # first chunks come out before it.
    path = tmp_path / "late.txt"
    _write_conll(path, NER_X, NER_Y)
    with path.open("a") as handle:
        handle.write("Paris LOC\n")
    n_lines = len(path.read_text().splitlines())
    chunks = iter_ner(path, require_tags=True, chunk_size=2)
    X, y = next(chunks)
    assert (X, y) == (NER_X[:2], NER_Y[:2])
    with pytest.raises(ValueError, match=f"{path}:{n_lines}: malformed tag 'LOC'"):
        list(chunks)


@pytest.mark.parametrize(
    "text, message",
    [
        ("John\nvisited Paris\n", ":2: expected one token per line, as on line 1"),
        ("John B-PER\nvisited O\nParis\n", ":3: expected a token and a tag"),
        ("John B-PER\nParis LOC\n", ":2: malformed tag 'LOC'"),
        ('\n  [{"tokens": ["a"]}]\n', ":2: looks like JSON, but a ner model reads CoNLL"),
    ],
)
def test_iter_ner_errors_are_read_ners(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError) as one_shot:
        read_ner(str(path))
    with pytest.raises(ValueError) as lazy:
        list(iter_ner(str(path), chunk_size=1))
    assert str(lazy.value) == str(one_shot.value)
    assert str(lazy.value).startswith(f"{path}{message}")


def test_iter_relations_chunks_and_laziness(tmp_path):
    path = _write_conll04(tmp_path / "re.json", RE_X, RE_Y)
    chunks = list(iter_relations(path, chunk_size=3))
    assert [X for X, _ in chunks] == [RE_X[:3], RE_X[3:]]
    assert [target for _, y in chunks for target in y] == read_relations(path)[1]
    bare = _write_conll04(tmp_path / "tokens.json", RE_X)
    assert list(iter_relations(bare, chunk_size=10)) == [(RE_X, None)]

    # A malformed sentence after the first chunk: that chunk comes out first.
    records = json.loads(open(path).read()) + [{"tokens": ["a"], "tags": ["U-Peop", "O"]}]
    late = tmp_path / "late.json"
    late.write_text(json.dumps(records))
    chunks = iter_relations(str(late), chunk_size=2)
    assert next(chunks)[0] == RE_X[:2]
    with pytest.raises(ValueError, match=f"{late}: sentence 4: has 2 tags for 1 tokens"):
        list(chunks)


@pytest.mark.parametrize(
    "text",
    [
        '[\n{"tokens": ["a"]},\n{"tokens": ["b"]} "x"\n]\n',  # a missing comma, line 3
        '[\n{"tokens": ["a"]},\n',  # cut short
        '{"tokens": ["a"]}',  # not a list
        "-DOCSTART- O\n",  # a CoNLL file
        '[{"tokens": ["a"]}] trailing',
    ],
)
def test_iter_relations_errors_are_read_relations(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValueError) as one_shot:
        read_relations(str(path))
    with pytest.raises(ValueError) as lazy:
        list(iter_relations(str(path), chunk_size=1))
    assert str(lazy.value) == str(one_shot.value)


def test_iter_relations_reads_items_across_blocks(tmp_path, monkeypatch):
    # Tiny blocks: every item and number straddles block boundaries.
    from sklearn_fishdip.tasks.relations import _io

    original = _io._json_list_items
    monkeypatch.setattr(_io, "_json_list_items", lambda handle: original(handle, block_size=3))
    path = _write_conll04(tmp_path / "re.json", RE_X, RE_Y)
    assert list(iter_relations(path, chunk_size=100)) == [read_relations(path)]


def test_output_to_a_device_is_written_directly(files, ner_model, capsys):
    # /dev/null (or /dev/stdout, a pipe) cannot be renamed onto: no ".part" beside it.
    code, _, err = _run(
        capsys, "predict", "--model", ner_model, "--input", files["ner"], "--output", os.devnull
    )
    assert code == 0, err
    assert not os.path.exists(f"{os.devnull}.part")
