-- The discovery search index over the agents (the contract: storage_backends/discovery.py; the
-- code: postgresql_discovery*.py). Every agent write updates it in its own transaction after
-- taking the event lock, so writers of the running counts below are serialized: no lost
-- update, no deadlock. Agents stored before this migration get indexed by the rebuild that
-- migrate() runs whenever registry meta discovery_index_version is not the code's version.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One row per indexed (not deleted) agent, holding all a search checks, so that one row
-- decides whether an agent matches: a walk along any index of this table filters in place,
-- with no probe elsewhere. That is also why the weighted text (name A, keywords B,
-- description C) lives here and not on agents: walks read these rows, not the wide agents.
-- terms holds the agent's kind:value terms as lexemes taken as they are (array_to_tsvector):
-- a filter group is a tsquery, tested by a binary search per term, several times cheaper than
-- comparing every element of a text[]. seq numbers agents in the order they were indexed:
-- relevance ranks the newest matches by it. Rows are appended in seq order, so a BRIN index
-- on seq confines a bitmap search to the newest part of the table at almost no cost.
-- No foreign key to agents: the rows are derived, written only with their agent, rebuilt
-- from agents, and agents are never removed (deleting one leaves a tombstone); a key check
-- per row would slow bulk imports for nothing.
CREATE TABLE agent_search (
    agent_id text COLLATE "C" PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    status text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    name text COLLATE "C" NOT NULL,
    terms tsvector NOT NULL,
    search_vector tsvector NOT NULL
);
CREATE UNIQUE INDEX agent_search_seq ON agent_search (seq);
CREATE INDEX agent_search_seq_ranges ON agent_search USING brin (seq)
    WITH (pages_per_range = 16, autosummarize = on);
-- The keyset sorts; name in code-point order through the column's "C" collation.
CREATE INDEX agent_search_created_at ON agent_search (created_at DESC, agent_id DESC);
CREATE INDEX agent_search_updated_at ON agent_search (updated_at DESC, agent_id DESC);
CREATE INDEX agent_search_name ON agent_search (name, agent_id);
-- Words and terms in one GIN index, so that one index scan intersects a rare word with a
-- common capability by skipping through the common one's postings instead of reading them
-- all (two indexes would each build a full bitmap first). fastupdate off: a pending list
-- would be read by every search, and searches matter more than write speed here.
CREATE INDEX agent_search_words_terms ON agent_search USING gin (search_vector, terms)
    WITH (fastupdate = off);

-- Indexed agents per term and status, kept by every index write: exact facet counts, and
-- how selective each filter is when a search picks its plan.
CREATE TABLE agent_term_counts (
    term text COLLATE "C" NOT NULL,
    status text NOT NULL,
    agents bigint NOT NULL,
    PRIMARY KEY (term, status)
);

-- Indexed agents per word (lexeme of the english configuration), and how many have it in
-- their name: how selective each word of a query is, and the vocabulary a word no agent has
-- (a typo, a fragment) is matched against by trigram similarity to find the names it meant.
-- Trigrams over this vocabulary rather than over a million names: a lookup stays small
-- whatever the number of agents.
CREATE TABLE agent_word_counts (
    word text COLLATE "C" PRIMARY KEY,
    agents bigint NOT NULL,
    names bigint NOT NULL
);
CREATE INDEX agent_word_counts_trigrams ON agent_word_counts USING gin (word gin_trgm_ops);
