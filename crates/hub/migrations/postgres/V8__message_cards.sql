-- The SQLite store's migration 10: a message may show a payment or a payment request as a card.
ALTER TABLE messages ADD COLUMN card TEXT;
