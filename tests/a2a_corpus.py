"""The shared corpus of real-world A2A cards and what the registry must make of each.

The corpus (``shared/a2a-cards`` beside the repository; see its README and SOURCES.tsv) holds
cards as their authors published them. EXPECTED says, for each file, whether the registry
accepts it (and which warnings say what changed) or refuses it (the field and the reason).
A file without an entry fails the suite, so a card added to the corpus needs a decision here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from agentvault_registry.a2a import AgentCardSchema

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "a2a-cards"
CORPUS_FOLDERS = ("cards", "testdata-a2a-cli/valid", "testdata-a2a-cli/invalid")
V03_ONLY_FIELDS = (
    "url",
    "preferredTransport",
    "protocolVersion",
    "additionalInterfaces",
    "security",
    "supportsAuthenticatedExtendedCard",
)

#: For test modules that need the corpus.
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(),
    reason=f"no A2A card corpus at {CORPUS} (shared/a2a-cards, beside the repository)",
)


def accepted(*warnings: str, source_version: str | None = None) -> dict[str, Any]:
    return {"outcome": "accepted", "warnings": warnings, "source_version": source_version}


def clean() -> dict[str, Any]:
    """Accepted as published: a valid 1.0 card, nothing changed, nothing to say."""
    return {"outcome": "clean"}


def refused(field: str, reason: str) -> dict[str, Any]:
    return {"outcome": "refused", "field": field, "reason": reason}


MISSING = "Missing data for required field."
NOT_A_CARD = "Not an A2A Agent Card"

EXPECTED: dict[str, dict[str, Any]] = {
    "cards/01-a2aproject-a2a-samples.json": accepted("localhost is reachable only"),
    "cards/02-Coolock-Village-meitheal.json": refused("supportedInterfaces.0.url", "relative"),
    "cards/03-0spoon-seamless.json": accepted(
        "supportedInterfaces replaces: url, preferredTransport, protocolVersion",
        "supportedInterfaces.0.transport: dropped; protocolBinding says the same",
        "'json-rpc' is spelled 'JSONRPC'",
        "taken from the card's top-level protocolVersion '0.3.0'",
        "supportsAuthenticatedExtendedCard: moved to capabilities.extendedAgentCard",
        "securitySchemes: converted from OpenAPI's {type: ...} shape to A2A 1.0's: bearer (http)",
        "127.0.0.1 is reachable only",
        source_version="1.0",
    ),
    # MCP endpoints: local:// is no http(s) interface.
    "cards/04-druide67-asiai.json": refused("supportedInterfaces.0.url", "not local:"),
    "cards/05-test-mesh-testmesh.json": refused("skills.0.tags", MISSING),
    "cards/06-walter-grace-data-label-factory.json": refused(
        "capabilities", "An array is read only when it lists capability names"
    ),
    # An interface "type" (here "http-rest") is not read as a binding: it is no A2A name.
    "cards/07-Autari-ai-partners.json": refused("supportedInterfaces.0.protocolBinding", MISSING),
    "cards/08-Foreveryoung2149-agent-approvals.json": refused(
        "supportedInterfaces.0.protocolBinding", MISSING
    ),
    "cards/09-rioanandaputra-bot-bayar.digital-docs.json": accepted(
        "Dropped v0.3 fields supportedInterfaces replaces: url",
        "capabilities.stateTransitionHistory: dropped",
    ),
    "cards/10-N3mes1s-agora.json": clean(),
    "cards/11-NSPG13-agent-bounties.json": accepted(
        "'https://agentbounties.app/docs/a2a-direct-api-binding-v1' is no core binding",
        "kept as a custom one",
    ),
    "cards/12-leonardwongly-ProjectPortfolio.json": accepted(
        "Dropped v0.3 fields supportedInterfaces replaces: url, protocolVersion",
        "Kept fields that A2A 1.0 does not define: extensions",
    ),
    "cards/13-EndlessRay-sage-a2a.json": accepted(
        "securityRequirements: rewritten in A2A 1.0's shape",
        "Kept fields that A2A 1.0 does not define: epistemicCapabilities",
    ),
    "cards/14-Roelzz-dad-joke-a2a-agent.json": refused("supportedInterfaces.0.url", "template"),
    "cards/15-tomtom215-a2a-rust.json": accepted(
        "supportedInterfaces.0.protocolVersion: '1.0.0' is named '1.0'",
        "bench.example.com is reserved for documentation",
    ),
    "cards/16-oaslananka-a2amesh.json": refused("signatures.0.signature", MISSING),
    "cards/17-MisterVVP-a2a-cpp.json": refused("description", MISSING),
    "cards/18-craigericksondpo-Yo-ai.json": refused("skills.0.id", MISSING),
    "cards/19-google-adk-samples.json": refused("skills", "at least one skill"),
    "cards/20-110kc3-seo.json": accepted(
        "supportedInterfaces: built from the v0.3 fields url, preferredTransport, protocolVersion",
        "supportedInterfaces.0.protocolVersion: '0.3.0' is named '0.3'",
        "Kept fields that A2A 1.0 does not define: interfaces",
        source_version="0.3",
    ),
    "cards/21-CSOAI-ORG-agent-audit-logger-mcp.json": accepted(
        "v0.3's defaults apply: preferredTransport 'JSONRPC'",
        "Kept fields that A2A 1.0 does not define: x-meok",
    ),
    "cards/22-0xsl1m-cerebrus-pulse-docs.json": accepted(
        "supportedInterfaces: built from the v0.3 fields url, protocolVersion",
        "Kept fields that A2A 1.0 does not define: extensions",
    ),
    # A v0.3 layout that declares protocolVersion 1.0.0: taken at its word.
    "cards/23-spiceoogway-hub.json": accepted(
        "'1.0.0' is named '1.0'",
        "supportsAuthenticatedExtendedCard: moved to capabilities.extendedAgentCard",
        "Kept fields that A2A 1.0 does not define: authentication, extensions",
        source_version="0.3",
    ),
    "cards/24-GrahamPaasch-graham-a2a.json": refused("name", MISSING),
    "cards/25-GTCC777-mcp-pulsenetwork.json": accepted(
        "supportedInterfaces: built from the v0.3 fields url, preferredTransport, protocolVersion"
    ),
    "cards/26-JosephMatsiko-pathtoagi-observatory.json": accepted(
        "additionalInterfaces.0: dropped; it repeats an interface already listed",
        "Kept fields that A2A 1.0 does not define: interop",
    ),
    "cards/27-Azhy34-azhyshchev.de.json": refused("skills.0.tags", MISSING),
    "cards/28-open-agreements-open-agreements.json": refused(
        "securitySchemes.none.type", "Unknown security scheme type 'none'"
    ),
    "cards/29-OrbiAds-Orbiads-GAM-A2A.json": refused("url", "relative or not a URL"),
    "cards/30-Palo-Alto-AI-Research-Lab-agent-leash.json": accepted(
        "security: renamed securityRequirements",
        "Kept fields that A2A 1.0 does not define: $comment, signature, $signatureNote",
    ),
    "cards/31-Hedgy-Labs-setoku.json": refused("additionalInterfaces.1.url", "template"),
    "cards/32-anp2dev-anp2.json": accepted(
        "Dropped null fields (proto3 JSON reads null as absent): capabilities.extensions",
        "Kept fields that A2A 1.0 does not define: author, homepage",
    ),
    "cards/33-Access0x1-Access0x1.json": accepted(
        "sessionGrantMandate (mutualTLS), bearerJWT (http)",
        "securityRequirements: rewritten in A2A 1.0's shape",
        "Kept fields that A2A 1.0 does not define: x-access0x1, x-erc7715, x-erc8004",
    ),
    "cards/34-Quitx5454-trace-agent.json": accepted(
        "x402_commerce (apiKey)", "Kept fields that A2A 1.0 does not define: type, endpoints"
    ),
    "cards/35-Shiv33ndu-songgenerationa2a.json": accepted(
        "supportsAuthenticatedExtendedCard: moved to capabilities.extendedAgentCard"
    ),
    "cards/36-symphonix-health-nexus-a2a-protocol.json": refused("skills.0.tags", MISSING),
    "cards/37-CSOAI-ORG-a2a-governance-bridge-mcp.json": accepted(
        "supportedInterfaces.0.protocolVersion: '0.2.0' is named '0.2'", source_version="0.2"
    ),
    "cards/38-Autonomy-Labs-Tech-prompt-vault.json": refused("version", MISSING),
    "cards/39-ethersphere-bee-docs.json": accepted(
        "v0.3's defaults apply: preferredTransport 'JSONRPC', protocolVersion '0.3.0'",
        "Kept fields that A2A 1.0 does not define: mcpServerUrl, llmsTxtUrl",
    ),
    "cards/40-0xdeeper-BaseAi8004.json": accepted(
        "localhost is reachable only", "Kept fields that A2A 1.0 does not define: authentication"
    ),
    "cards/41-0xcnr0-rugsense.json": accepted("trustModels, x-rugsense"),
    "cards/42-AbdullahOC-a2acolony.json": accepted("capabilities.agentSelfRegistration"),
    "cards/43-HeadySystems-Heady-Testing.json": refused("skills.0.description", MISSING),
    # Reported as the author spelled it, though the upgrade renamed it supportedInterfaces.
    "cards/44-Cogni-DAO-cogni.json": refused("supported_interfaces.0.url", "relative"),
    "cards/45-CorvidLabs-corvid-agent.json": accepted("v0.3's defaults apply"),
    "cards/46-DiligenceWorks-Diligence.json": refused("url", "template"),
    # provider.name is not read as provider.organization: not an A2A spelling of it.
    "cards/47-Laisky-laisky-blog-graphql.json": refused("provider.organization", MISSING),
    "cards/48-Luckkyyy23-omni-service-node.json": accepted(
        "x402Payment (apiKey)", "Kept fields that A2A 1.0 does not define: x402, mcp, a2a"
    ),
    "cards/49-EyesetAi-eyesetai.json": refused("version", MISSING),
    "cards/50-aegisplaceprotocol-aegisplace.json": refused("skills.0.id", MISSING),
    "cards/51-AyushDey-Google-ADK-Learning.json": accepted(
        "supportedInterfaces: built from the v0.3 fields url"
    ),
    "cards/52-Anandb71-arbor.json": refused("skills.0", "Must be a JSON object"),
    "cards/53-lexwhiting-settlegrid.json": refused("skills.0", "Must be a JSON object"),
    "cards/54-AHP-Organization-agent-handshake-protocol.json": refused("_document", NOT_A_CARD),
    "cards/55-Adewale-tech-telex-dictionary-agent.json": refused("_document", "empty"),
    "cards/56-Arcane-Fly-Z2.json": refused("_document", NOT_A_CARD),
    "cards/57-Michey0495-ai-check.json": refused("skills", MISSING),
    "cards/58-lizy-agent-lizy.json": refused("_document", NOT_A_CARD),
    "cards/59-tre-systems-delta-v.json": refused("_document", NOT_A_CARD),
    "cards/60-Bubakooz22-xrpl-tollbooth.json": refused("_document", NOT_A_CARD),
    "testdata-a2a-cli/invalid/invalid-format.json": refused("name", "Not a valid string."),
    "testdata-a2a-cli/invalid/missing-required.json": refused("_document", NOT_A_CARD),
    # A pre-release 1.0 draft's spellings; each has one 1.0 meaning.
    "testdata-a2a-cli/valid/full.json": accepted(
        "supportedInterfaces.0.transport: renamed protocolBinding",
        "'jsonrpc' is spelled 'JSONRPC'",
        "'grpc' is spelled 'GRPC'",
        "taken from the card's top-level protocolVersion '1.0'",
        "supportsExtendedAgentCard: moved to capabilities.extendedAgentCard",
        "securityRequirements: rewritten in A2A 1.0's shape",
    ),
    # The draft let interfaces and skill tags be absent; 1.0 requires both.
    "testdata-a2a-cli/valid/minimal.json": refused(
        "supportedInterfaces", "a card needs supportedInterfaces (or url)"
    ),
}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def sdk_agent_card_type() -> type:
    """The official SDK's AgentCard (protobuf ``lf.a2a.v1.AgentCard``)."""
    try:
        from a2a.types import AgentCard
    except ImportError:
        if in_ci():
            raise
        pytest.skip("a2a-sdk is not installed: pip install -e '.[test]'")
    return AgentCard


def assert_sdk_parses(card: dict[str, Any], agent_card_type: type) -> None:
    """As the SDK's own card resolver reads cards (unknown fields ignored), and strictly
    once the fields A2A does not define are left out."""
    from google.protobuf.json_format import ParseDict

    parsed = ParseDict(card, agent_card_type(), ignore_unknown_fields=True)
    assert parsed.name == card["name"]
    assert [item.url for item in parsed.supported_interfaces] == [
        item["url"] for item in card["supportedInterfaces"]
    ]
    ParseDict(AgentCardSchema().dump(card), agent_card_type())


def corpus_files() -> set[str]:
    return {
        path.relative_to(CORPUS).as_posix()
        for folder in CORPUS_FOLDERS
        for path in (CORPUS / folder).glob("*.json")
    }
