-- Capabilities: which the admin turned on (space-separated names) and
-- Microsoft's last answer to an admin consenting for the organisation
-- (JSON); per link, the delegated permissions Microsoft said it granted
-- (space-separated, from the scope of the last token response).
ALTER TABLE m365_config ADD COLUMN capabilities TEXT NOT NULL DEFAULT '';
ALTER TABLE m365_config ADD COLUMN admin_consent TEXT NOT NULL DEFAULT '';
ALTER TABLE links ADD COLUMN granted TEXT NOT NULL DEFAULT '';
