-- 0007: the NATS relay keeps its position in kontor_consumers (row '$relay') and no longer marks
-- each row relayed_at, so the partial index of unrelayed rows is never read — but every new event
-- qualifies for it, so each publish paid one more index insert.
DROP INDEX IF EXISTS kontor_events_unrelayed;
