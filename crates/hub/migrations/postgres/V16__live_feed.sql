-- The SQLite store's migration 18: the operators' live feed reads lines by when they last changed.
CREATE INDEX transactions_feed ON transactions(updated_at, id);
