-- The SQLite store's migration 8: each member's own choices for a room (muted, pinned).
ALTER TABLE room_members ADD COLUMN muted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE room_members ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT FALSE;
