"""load_glue on small TSV files written like GLUE's."""

import pytest

from sklearn_fishdip.datasets import GLUE_LABEL_NAMES, load_glue

FILES = {
    "SST-2/train.tsv": "sentence\tlabel\nhide new secretions \t0\na charming film\t1\n",
    "SST-2/test.tsv": "index\tsentence\n0\tuneasy mishmash .\n",
    "RTE/dev.tsv": "index\tsentence1\tsentence2\tlabel\n"
    '0\tA "quoted" text.\tA text.\tentailment\n'
    "1\tNo weapons.\tWeapons.\tnot_entailment\n",
    "MRPC/train.tsv": "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
    "1\t70\t71\tA b .\tB a .\n",
    "CoLA/train.tsv": "gj04\t1\t\tOur friends won't buy this.\ngj04\t0\t*\tThey drank the pub.\n",
    "STS-B/dev.tsv": "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\t"
    "sentence2\tscore\n0\tmain\tMSRvid\t2012\t0001\tnone\tnone\tA plane.\tA jet.\t5.000\n",
    "RTE/train.tsv": "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tmaybe\n",
    "SST-2/dev.tsv": "sentence\tlabel\nonly one column\n",
}


@pytest.fixture
def glue(tmp_path):
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_single_texts_pairs_labels_and_scores(glue):
    assert load_glue(glue, "SST-2") == (["hide new secretions ", "a charming film"], [0, 1])
    assert load_glue(glue, "sst2", "test") == (["uneasy mishmash ."], None)
    X, y = load_glue(glue, "rte", "dev")
    assert X == [('A "quoted" text.', "A text."), ("No weapons.", "Weapons.")]
    assert y == ["entailment", "not_entailment"]
    assert load_glue(glue, "MRPC") == ([("A b .", "B a .")], [1])  # byte-order mark skipped
    assert load_glue(glue, "cola") == (
        ["Our friends won't buy this.", "They drank the pub."],
        [1, 0],
    )
    assert load_glue(glue, "STS_B", "dev") == ([("A plane.", "A jet.")], [5.0])


def test_label_names_cover_the_classification_tasks():
    assert GLUE_LABEL_NAMES["RTE"]["not_entailment"] == "not entailment"
    assert set(GLUE_LABEL_NAMES) == {"SST-2", "RTE", "MRPC", "CoLA"}


def test_errors_name_the_file_and_line(glue):
    with pytest.raises(ValueError, match=r"RTE/train.tsv:2: bad RTE label 'maybe'"):
        load_glue(glue, "RTE")
    with pytest.raises(ValueError, match=r"SST-2/dev.tsv:2: 1 tab-separated columns, SST-2 nee"):
        load_glue(glue, "SST-2", "dev")
    with pytest.raises(ValueError, match="unknown GLUE task 'qnli'"):
        load_glue(glue, "qnli")
    with pytest.raises(ValueError, match="split must be"):
        load_glue(glue, "RTE", "validation")
    with pytest.raises(FileNotFoundError):
        load_glue(glue, "CoLA", "dev")
