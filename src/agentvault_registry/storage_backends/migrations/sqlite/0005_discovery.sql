-- The search index of the discovery plugin, written in the same transaction as every agent
-- write (see storage_backends/sqlite_discovery_index.py). Tombstones are not indexed. This
-- migration creates it empty; migrate() then fills it from the agents table, as it does
-- whenever the registry meta discovery_index_version differs from the code's INDEX_VERSION.

-- One row per indexed agent: the text FTS5 indexes (its external content), and the sort keys
-- and status of the agent as indexed. doc is assigned in indexing order, so the highest docs
-- are the most recently indexed agents: relevance ranks those first when a word matches too
-- many to rank them all. created_at, updated_at and name copy the agents columns, so a walk
-- in any sort order never leaves this table.
CREATE TABLE agent_search (
    doc INTEGER PRIMARY KEY,
    agent_id TEXT NOT NULL CONSTRAINT agent_search_agent_id_unique UNIQUE
        REFERENCES agents (id) ON DELETE RESTRICT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    name TEXT NOT NULL,
    keywords TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL
);
-- Walks in the other sort orders. Ties are broken by agent_id in the sort's direction, and
-- SQLite walks an index backwards as readily as forwards, so ascending indexes serve both.
CREATE INDEX agent_search_updated_at ON agent_search (updated_at, agent_id);
CREATE INDEX agent_search_name ON agent_search (name, agent_id);
CREATE INDEX agent_search_created_at ON agent_search (created_at, agent_id);

-- Words of name, keywords and description (in that column order: bm25's weights follow it).
-- External content: the text is stored once, in agent_search. Porter stemming makes
-- "translation" find "translate"; remove_diacritics 2 makes "cafe" find "café".
CREATE VIRTUAL TABLE agents_fts USING fts5 (
    name,
    keywords,
    description,
    content = 'agent_search',
    content_rowid = 'doc',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
-- An external-content index must be told of every change with the exact old values, or it
-- corrupts; triggers see the old row however the change is made.
CREATE TRIGGER agent_search_fts_insert AFTER INSERT ON agent_search BEGIN
    INSERT INTO agents_fts (rowid, name, keywords, description)
    VALUES (new.doc, new.name, new.keywords, new.description);
END;
CREATE TRIGGER agent_search_fts_delete AFTER DELETE ON agent_search BEGIN
    INSERT INTO agents_fts (agents_fts, rowid, name, keywords, description)
    VALUES ('delete', old.doc, old.name, old.keywords, old.description);
END;
-- Only a change of the text re-tokenizes it: a status change leaves the words alone.
CREATE TRIGGER agent_search_fts_update AFTER UPDATE OF doc, name, keywords, description
    ON agent_search
    WHEN old.doc IS NOT new.doc OR old.name IS NOT new.name
        OR old.keywords IS NOT new.keywords OR old.description IS NOT new.description
    BEGIN
    INSERT INTO agents_fts (agents_fts, rowid, name, keywords, description)
    VALUES ('delete', old.doc, old.name, old.keywords, old.description);
    INSERT INTO agents_fts (rowid, name, keywords, description)
    VALUES (new.doc, new.name, new.keywords, new.description);
END;

-- Postings: one row per (term, agent), ordered like the default sort (newest first), so a
-- filter's agents are an index range walked in page order. doc leads from a posting to the
-- agent's text and terms.
CREATE TABLE agent_terms (
    term TEXT NOT NULL,
    created_at TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (term, created_at, agent_id)
) WITHOUT ROWID;

-- The same terms by agent: "has this agent one of these terms" is a probe on a short integer
-- key, which a walk of FTS5 matches can ask without reading agent_search, and facets read an
-- agent's terms of one kind as one short range. Also what an update of the agent replaces.
CREATE TABLE agent_doc_terms (
    doc INTEGER NOT NULL,
    term TEXT NOT NULL,
    PRIMARY KEY (doc, term)
) WITHOUT ROWID;

-- Indexed agents per (term, status), kept by the same writes: the query planner sizes each
-- filter from it, and facet counts of plain status queries are read from it exactly.
CREATE TABLE agent_term_counts (
    term TEXT NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (term, status)
) WITHOUT ROWID;
-- A value no agent has any more is no facet: its row goes when its count reaches zero.
CREATE TRIGGER agent_term_counts_drop_zero AFTER UPDATE OF n ON agent_term_counts
    WHEN new.n = 0 BEGIN
    DELETE FROM agent_term_counts WHERE term = new.term AND status = new.status;
END;
