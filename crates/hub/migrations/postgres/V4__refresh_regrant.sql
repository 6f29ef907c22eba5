-- The SQLite store's migration 6: a spent refresh token may be presented once more (its answer was lost)
-- and gets the same successor; this marks that it had its one re-presentation.
ALTER TABLE refresh_tokens ADD COLUMN regranted BOOLEAN NOT NULL DEFAULT FALSE;
