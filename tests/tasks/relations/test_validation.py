import pytest

from sklearn_fishdip.tasks.relations._validation import check_relation_target


def test_relation_target_defaults_and_index_in_messages():
    entities, relations = check_relation_target({"entities": [[0, 1, "Peop"]]}, 2)
    assert entities == [(0, 1, "Peop")] and relations == []
    with pytest.raises(ValueError, match="entity 0 of sentence 4"):
        check_relation_target({"entities": [(0, 3, "Peop")]}, 2, index=4)
    with pytest.raises(TypeError, match="needs integer start"):
        check_relation_target({"entities": [(True, 1, "Peop")]}, 2)
