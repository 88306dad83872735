-- What the liveness plugin's prober found at each agent's origin.
--
-- agents.probed_at: when the agent was last probed (NULL: never), kept with its health (0007).
-- It is on the agent row because the prober's query filters on the agent's status and
-- interfaces too; the partial index holds exactly the agents a round may pick, in the order
-- it picks them (never probed first, then the least recently probed), so a round reads only
-- the agents it probes, however many agents are up to date or inactive.
ALTER TABLE agents ADD COLUMN probed_at timestamptz;
CREATE INDEX agents_probe_due ON agents (probed_at NULLS FIRST, id)
    WHERE status = 'active' AND cardinality(api_endpoints) > 0;

-- The last probe of each agent and what the next one needs: the ETag to send back, the
-- well-known path that answered, the hash of the card served (all of them of origin).
CREATE TABLE agent_probes (
    agent_id text COLLATE "C" PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    checked_at timestamptz NOT NULL,
    origin text NOT NULL,
    reachable boolean NOT NULL,
    http_status integer,
    latency_ms double precision,
    etag text,
    card_path text,
    served_card_hash text,
    error text,
    consecutive_failures integer NOT NULL CHECK (consecutive_failures >= 0),
    last_reachable_at timestamptz
);

-- Probes per agent and UTC hour, and how many the origin answered: the rolling uptime. Each
-- probe prunes its agent's hours older than the window (7 days), so an agent has at most
-- about 170 rows. The primary key serves the sum over an agent's window and the pruning.
CREATE TABLE agent_uptime (
    agent_id text COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    hour timestamptz NOT NULL,
    answered integer NOT NULL CHECK (answered >= 0),
    probes integer NOT NULL CHECK (probes >= answered),
    PRIMARY KEY (agent_id, hour)
);
