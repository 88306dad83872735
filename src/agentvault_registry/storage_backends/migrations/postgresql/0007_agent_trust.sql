-- What the registry found out about each agent beyond what its developer wrote: the check of
-- its card's signatures and the prober's view of its health, both JSON objects ('{}': never
-- checked). Kept on the agent row because discovery filters and ranks by them.
ALTER TABLE agents ADD COLUMN signature jsonb NOT NULL DEFAULT '{}';
ALTER TABLE agents ADD COLUMN health jsonb NOT NULL DEFAULT '{}';
