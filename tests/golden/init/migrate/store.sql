-- pretend the store is schema version 1 (before the runs table)
DROP TABLE runs;
UPDATE meta SET value = '1' WHERE key = 'schema_version';
