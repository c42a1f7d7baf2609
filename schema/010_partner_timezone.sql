-- Time zones: the IANA zone a partner reads its dates in, when the partner
-- file's timezone column gives one; '' when it does not, and the partner
-- then reads its country's zone (when the country has only one) or the
-- program's. A constant default adds the column without rewriting the table.
ALTER TABLE partners ADD COLUMN timezone text NOT NULL DEFAULT '';
