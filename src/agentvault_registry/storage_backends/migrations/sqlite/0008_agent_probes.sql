-- What the liveness plugin's prober found at each agent's origin. Timestamps are ISO-8601 UTC
-- text of one fixed width, as in 0002.
--
-- agents.probed_at: when the agent was last probed (NULL: never), kept with its health (0007).
-- It is on the agent row because the prober's query filters on the agent's status and
-- interfaces too; the partial index holds exactly the agents a round may pick, in the order
-- it picks them (never probed first, then the least recently probed), so a round reads only
-- the agents it probes, however many agents are up to date or inactive.
ALTER TABLE agents ADD COLUMN probed_at TEXT;
CREATE INDEX agents_probe_due ON agents (probed_at, id)
    WHERE status = 'active' AND api_endpoints <> '[]';

-- The last probe of each agent and what the next one needs: the ETag to send back, the
-- well-known path that answered, the hash of the card served (all of them of origin).
CREATE TABLE agent_probes (
    agent_id TEXT NOT NULL PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    checked_at TEXT NOT NULL,
    origin TEXT NOT NULL,
    reachable INTEGER NOT NULL CHECK (reachable IN (0, 1)),
    http_status INTEGER,
    latency_ms REAL,
    etag TEXT,
    card_path TEXT,
    served_card_hash TEXT,
    error TEXT,
    consecutive_failures INTEGER NOT NULL CHECK (consecutive_failures >= 0),
    last_reachable_at TEXT
) WITHOUT ROWID;

-- Probes per agent and UTC hour, and how many the origin answered: the rolling uptime. Each
-- probe prunes its agent's hours older than the window (7 days), so an agent has at most
-- about 170 rows. The primary key serves the sum over an agent's window and the pruning.
CREATE TABLE agent_uptime (
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    hour TEXT NOT NULL,
    answered INTEGER NOT NULL CHECK (answered >= 0),
    probes INTEGER NOT NULL CHECK (probes >= answered),
    PRIMARY KEY (agent_id, hour)
) WITHOUT ROWID;
