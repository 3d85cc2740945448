-- Idempotency keys for POST /api/slots/:slotId/hold: a retried request carrying the same
-- Idempotency-Key gets the first answer back instead of a second hold. Stored in the
-- hold's own transaction, so a key exists exactly when its hold committed.

-- Up Migration
CREATE TABLE idempotency_keys (
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key          text NOT NULL CONSTRAINT idempotency_keys_key_format CHECK (key ~ '^[A-Za-z0-9_.:-]{1,200}$'),
  -- what the key was first used for (method and path); the same key on another request is refused
  request      text NOT NULL CONSTRAINT idempotency_keys_request_length CHECK (length(request) <= 300),
  status_code  integer NOT NULL CONSTRAINT idempotency_keys_status_code CHECK (status_code BETWEEN 200 AND 599),
  response     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Down Migration
DROP TABLE IF EXISTS idempotency_keys;
