-- Where this PC reaches its hub, as it enrolled there: the address and the CA certificate
-- (PEM) it trusts alone for it. NULL for a PC enrolled before, which goes on with its
-- installer's settings.
ALTER TABLE meta ADD COLUMN enrolled_hub_url TEXT;
ALTER TABLE meta ADD COLUMN enrolled_hub_ca TEXT;
