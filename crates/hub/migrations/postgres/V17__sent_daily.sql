-- PostgreSQL's V17 and, the same text, the SQLite store's migration 19 (its schema.rs includes this file).
-- What each sender has sent today, kept as one running total per (sender, currency) so that the daily
-- limit is one row read instead of a sum over every transfer of the day: the UTC day (milliseconds since
-- the epoch / 86,400,000) and the amount of its transfers not failed. Filled from each sender's latest day.
CREATE TABLE sent_daily (
  user_id BIGINT NOT NULL, currency TEXT NOT NULL, day BIGINT NOT NULL, amount BIGINT NOT NULL,
  PRIMARY KEY (user_id, currency));
INSERT INTO sent_daily (user_id, currency, day, amount)
  SELECT t.from_user, t.currency, t.created_at / 86400000, CAST(SUM(t.amount) AS BIGINT) FROM transfers t
  WHERE t.status != 'failed'
    AND t.created_at / 86400000 = (SELECT MAX(u.created_at) / 86400000 FROM transfers u
                                   WHERE u.from_user = t.from_user AND u.currency = t.currency)
  GROUP BY t.from_user, t.currency, t.created_at / 86400000;
