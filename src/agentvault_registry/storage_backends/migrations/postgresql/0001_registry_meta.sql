-- Registry-wide settings that must agree across processes (instance id, schema facts).
CREATE TABLE registry_meta (
    key text PRIMARY KEY,
    value text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
