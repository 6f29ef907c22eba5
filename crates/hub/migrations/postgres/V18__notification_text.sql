-- PostgreSQL's V18 and, the same text, the SQLite store's migration 20 (its schema.rs includes this file).
-- What a notification says, as data (`NotificationText`, JSON): the app words it in its reader's language.
-- Rows from before have none and are shown as their English title and body.
ALTER TABLE notifications ADD COLUMN text_json TEXT;
