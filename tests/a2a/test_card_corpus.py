"""Every real-world card of the shared corpus, run through the normalizer.

The expected outcome of each file is in ``a2a_corpus.EXPECTED``; a file without one fails.
"""

from __future__ import annotations

import pytest

from a2a_corpus import (
    CORPUS,
    EXPECTED,
    V03_ONLY_FIELDS,
    assert_sdk_parses,
    corpus_files,
    needs_corpus,
    sdk_agent_card_type,
)
from agentvault_registry.a2a import AgentCardSchema, CardRefused, normalize_card

pytestmark = [pytest.mark.corpus, needs_corpus]


@pytest.fixture
def sdk_agent_card():
    return sdk_agent_card_type()


def test_every_corpus_file_has_an_expected_outcome():
    files = corpus_files()
    assert files - EXPECTED.keys() == set(), "new corpus files: decide their outcome in EXPECTED"
    assert EXPECTED.keys() - files == set(), "EXPECTED names files the corpus no longer has"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_card(name, sdk_agent_card):
    expected = EXPECTED[name]
    document = (CORPUS / name).read_bytes()
    if expected["outcome"] == "refused":
        with pytest.raises(CardRefused) as refusal:
            normalize_card(document)
        details = refusal.value.details
        assert expected["field"] in details, details
        assert any(expected["reason"] in reason for reason in details[expected["field"]]), details
        return
    result = normalize_card(document)
    if expected["outcome"] == "clean":
        assert result.warnings == []
        assert result.card == result.original
    for warning in expected.get("warnings", ()):
        assert any(warning in text for text in result.warnings), result.warnings
    if expected.get("source_version"):
        assert result.source_version == expected["source_version"]
    assert AgentCardSchema().validate(result.card) == {}
    assert not set(V03_ONLY_FIELDS) & result.card.keys()
    assert_sdk_parses(result.card, sdk_agent_card)
    assert normalize_card(result.card).card == result.card, "normalizing again changes nothing"
