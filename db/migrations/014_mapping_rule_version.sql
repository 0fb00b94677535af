-- SPDX-License-Identifier: MIT
-- A counter of changes to tmi.mapping_rule (issue 11, ADR 0031). The normalize and alarm stages read this
-- one row per batch instead of every rule, and read the rules again only when it moved. A row, not a
-- sequence: it is bumped inside the transaction that changes a rule, so a reader never sees the bump
-- before the change itself (a sequence's nextval is visible at once, before its transaction commits).
CREATE TABLE tmi.mapping_rule_version (
  one     boolean PRIMARY KEY DEFAULT true CHECK (one),
  version bigint NOT NULL
);
INSERT INTO tmi.mapping_rule_version (one, version) VALUES (true, 0);

CREATE FUNCTION tmi.bump_mapping_rule_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tmi.mapping_rule_version SET version = version + 1;
  RETURN NULL;
END;
$$;

CREATE TRIGGER mapping_rule_version_bump
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tmi.mapping_rule
  FOR EACH STATEMENT EXECUTE FUNCTION tmi.bump_mapping_rule_version();
