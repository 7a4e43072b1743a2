-- Upload links also take large mail attachments: the link then names the
-- attachment (file name and type) it adds to a draft.
ALTER TABLE uploads ADD COLUMN attachment_name TEXT NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN content_type TEXT NOT NULL DEFAULT '';
