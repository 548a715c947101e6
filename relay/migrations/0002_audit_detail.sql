-- What an audit row's event was about, when the event needs it: e.g. for
-- `photo_accepted_by_staff` the image and the framing rule staff overrode
-- ("FRONT document_too_far"). Never personal data.
ALTER TABLE audit ADD COLUMN detail text;
