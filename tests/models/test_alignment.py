"""Prefix-LM target positions aligned to the source pieces they copy."""

import pytest
import torch

from sklearn_fishdip.models import PrefixLMAdapter, TargetAligner
from sklearn_fishdip.utils._testing import make_tiny_tokenizer

from .test_adapters import _tiny_prefix_lm


@pytest.fixture(scope="module")
def tokenizer():
    return make_tiny_tokenizer()


@pytest.fixture(scope="module")
def aligner(tokenizer):
    return TargetAligner.from_tokenizer(tokenizer)


def _ids(tokenizer, text, special=False):
    return list(tokenizer(text, add_special_tokens=special)["input_ids"])


def _check_the_walk_grows_as_positions(tokenizer, aligner, source, target):
    """One incremental walk, fed the target an id at a time, agrees with every prefix."""
    source_ids = _ids(tokenizer, source, special=True)
    target_ids = _ids(tokenizer, target, special=True)
    walk = aligner.walk(source_ids)
    for k in range(len(target_ids) + 1):
        assert walk.positions(target_ids[:k]) == aligner.positions(source_ids, target_ids[:k])


def _positions(tokenizer, aligner, source, target):
    source_ids = _ids(tokenizer, source, special=True)
    target_ids = _ids(tokenizer, target, special=True)  # ends with EOS, as a target does
    return aligner.positions(source_ids, target_ids)


def test_reads_the_tokenizer(tokenizer, aligner):
    # The tiny tokenizer adds no start token and appends EOS.
    assert (aligner.source_lead, aligner.source_tail) == (0, 1)
    assert aligner.opens == ((tokenizer.convert_tokens_to_ids("["),),)
    assert aligner.separators == ((tokenizer.convert_tokens_to_ids("|"),),)


def test_copies_take_their_source_position_and_markup_the_last_copied(tokenizer, aligner):
    # source: john(0) visited(1) paris(2) </s>(3)
    got = _positions(tokenizer, aligner, "john visited paris", "[ john | person ] visited paris")
    #                [  john |  person ] visited paris </s>
    assert got == [0, 0, 0, 0, 0, 1, 2, 2]
    got = _positions(tokenizer, aligner, "he met john", "he met [ john | person ]")
    assert got == [0, 1, 1, 2, 2, 2, 2, 2]


def test_a_type_name_equal_to_the_next_word_is_not_a_copy(tokenizer, aligner):
    # "person" is also the next source word: inside the type part it must not
    # advance, or the real copy after "]" would fall out of step.
    got = _positions(tokenizer, aligner, "paris person today", "[ paris | person ] person today")
    assert got == [0, 0, 0, 0, 0, 1, 2, 2]


def test_relation_tails_are_not_copies(tokenizer, aligner):
    got = _positions(
        tokenizer, aligner, "john met mary", "[ john | person | met = mary ] met [ mary | person ]"
    )
    # [ john | person | met = mary ] -> all at 0; "met" copies 1; "[ mary" copies 2.
    assert got == [0] * 9 + [1, 1, 2, 2, 2, 2, 2]


def test_nested_brackets_return_to_the_outer_name(tokenizer, aligner):
    got = _positions(
        tokenizer,
        aligner,
        "new york bank said",
        "[ [ new york | location ] bank | organization ] said",
    )
    # [ [ new(0) york(1) | location ] bank(2) | organization ] said(3) </s>
    assert got == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3]


def test_an_id_that_is_no_copy_keeps_the_last_position(tokenizer, aligner):
    got = _positions(tokenizer, aligner, "john visited paris", "john apple visited paris")
    assert got == [0, 0, 1, 2, 2]


def test_positions_of_a_prefix_are_the_prefix_of_the_positions(tokenizer, aligner):
    # What generation computes step by step is what training saw.
    source = _ids(tokenizer, "he met john smith in paris", special=True)
    target = _ids(tokenizer, "he met [ john smith | person ] in [ paris | location ]", special=True)
    full = aligner.positions(source, target)
    for k in range(len(target) + 1):
        assert aligner.positions(source, target[:k]) == full[:k]
    assert max(full) < len(source)


def test_an_incremental_walk_gives_the_positions_of_every_prefix(tokenizer, aligner):
    # Generation resumes one walk per sentence instead of recomputing: same answers.
    source = _ids(tokenizer, "he met john smith in paris", special=True)
    target = _ids(tokenizer, "he met [ john smith | person ] in [ paris | location ]", special=True)
    walk = aligner.walk(source)
    for k in range(len(target) + 1):
        assert walk.positions(target[:k]) == aligner.positions(source, target[:k])


def test_an_incremental_walk_waits_for_multi_id_markup():
    # "[" written as 5 or as 5 9 (two ids): after a lone 5 the walk cannot yet know
    # which, and must not settle it; a later 9 turns both ids into markup.
    aligner = TargetAligner(opens=[[5, 9], [5]], closes=[[6]], separators=[[7]], relations=[[8]])
    source = [1, 5, 20, 21, 2]
    target = [5, 9, 20, 7, 30, 6, 21, 2]
    walk = aligner.walk(source)
    for k in range(len(target) + 1):
        assert walk.positions(target[:k]) == aligner.positions(source, target[:k])
    # A 5 with no 9 after it is the one-id "[", known once the next id shows it.
    plain = [5, 20, 21, 2]
    walk = aligner.walk(source)
    got = [walk.positions(plain[:k]) for k in range(len(plain) + 1)]
    assert got == [aligner.positions(source, plain[:k]) for k in range(len(plain) + 1)]


def test_collate_writes_aligned_or_sequential_positions(tokenizer, aligner):
    model, _ = _tiny_prefix_lm()
    source = _ids(tokenizer, "john visited paris", special=True)
    target = _ids(tokenizer, "[ john | person ] visited paris", special=True)
    example = {"input_ids": source, "labels": target}
    aligned = PrefixLMAdapter.for_model(model, tokenizer).collate([example], 0)
    plain = PrefixLMAdapter.for_model(model).collate([example], 0)
    n = len(source)
    assert aligned["position_ids"][0].tolist() == list(range(n)) + aligner.positions(source, target)
    assert plain["position_ids"][0].tolist() == list(range(n + len(target)))
    # Aligned positions change the target rows' outputs and leave the source's.
    with torch.no_grad():
        a = PrefixLMAdapter.for_model(model, tokenizer).logits(model, aligned)
        b = PrefixLMAdapter.for_model(model).logits(model, plain)
    assert torch.allclose(a[0, :n], b[0, :n], atol=1e-6)
    assert not torch.allclose(a[0, n + 1 :], b[0, n + 1 :], atol=1e-4)


def test_invalid_aligners():
    with pytest.raises(ValueError, match="TargetAligner.closes"):
        TargetAligner(opens=[[1]], closes=[[]], separators=[[2]], relations=[[3]])
    with pytest.raises(ValueError, match="source_lead"):
        TargetAligner(opens=[[1]], closes=[[4]], separators=[[2]], relations=[[3]], source_lead=-1)
    with pytest.raises(TypeError, match="aligner must be a TargetAligner"):
        PrefixLMAdapter(aligner={"opens": [1]})


def test_markup_in_the_source_is_stepped_over(tokenizer, aligner):
    # SRL sources bracket the predicate, which the target copies plain:
    # john(0) [(1) visited(2) ](3) paris(4) </s>(5). Without the skip the walk
    # would wait at "[" and "visited" and "paris" would never be copies.
    source, target = "john [ visited ] paris", "[ john | person ] visited [ paris | location ]"
    got = _positions(tokenizer, aligner, source, target)
    #                [  john |  person ] visited [  paris |  location ] </s>
    assert got == [0, 0, 0, 0, 0, 2, 2, 4, 4, 4, 4, 4]
    _check_the_walk_grows_as_positions(tokenizer, aligner, source, target)


def test_sources_without_markup_walk_as_before(tokenizer, aligner):
    # The skip only concerns markup pieces of the source: a plain source's walk is unchanged.
    got = _positions(tokenizer, aligner, "john visited paris", "[ john | person ] visited paris")
    assert got == [0, 0, 0, 0, 0, 1, 2, 2]
    assert aligner.walk(_ids(tokenizer, "john visited paris", special=True))._skips == {}


def test_a_task_prefix_is_stepped_over(tokenizer, aligner):
    # triggers(0) :(1) john(2) visited(3) paris(4) </s>(5): the target copies from john on.
    source, target = "triggers : john visited paris", "[ john | person ] visited paris"
    # Not told of the prefix, the walk waits at "triggers" and every id sits at 0.
    assert set(_positions(tokenizer, aligner, source, target)) == {0}
    prefixed = aligner.with_source_prefixes([_ids(tokenizer, "triggers :")])
    got = _positions(tokenizer, prefixed, source, target)
    # Markup before the first copy takes the prefix's last piece, the row before "john".
    assert got == [1, 2, 2, 2, 2, 3, 4, 4]
    _check_the_walk_grows_as_positions(tokenizer, prefixed, source, target)
    # A source without the prefix walks as it did.
    assert _positions(tokenizer, prefixed, "john visited paris", target) == [0, 0, 0, 0, 0, 1, 2, 2]
    # The original aligner is unchanged, and the prefixes are part of what it is.
    assert aligner.source_prefixes == () and prefixed != aligner
    assert "source_prefixes" in repr(prefixed) and "source_prefixes" not in repr(aligner)


def test_the_longest_matching_prefix_is_stepped_over(tokenizer, aligner):
    prefixed = aligner.with_source_prefixes(
        [_ids(tokenizer, "triggers"), _ids(tokenizer, "triggers :")]
    )
    got = _positions(tokenizer, prefixed, "triggers : john visited", "john visited")
    assert got == [2, 3, 3]


def test_a_bracket_type_part_in_the_source_is_stepped_over(tokenizer, aligner):
    # Event arguments read their trigger typed: john(0) [(1) visited(2) |(3) person(4)
    # ](5) paris(6) </s>(7). The target copies "visited" but never "| person ]".
    source = "john [ visited | person ] paris"
    target = "[ john | location ] visited [ paris | location ]"
    got = _positions(tokenizer, aligner, source, target)
    #                [  john |  location ] visited [  paris |  location ] </s>
    assert got == [0, 0, 0, 0, 0, 2, 2, 6, 6, 6, 6, 6]
    _check_the_walk_grows_as_positions(tokenizer, aligner, source, target)


def test_empty_source_prefixes_are_refused(aligner):
    with pytest.raises(ValueError, match="source_prefixes"):
        aligner.with_source_prefixes([[]])
