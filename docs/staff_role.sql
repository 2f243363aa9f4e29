-- The PostgreSQL role that sealbook-admin connects as: enough to run the
-- clinic's day, and no privilege at all on the contacts table, so neither the
-- tool nor anyone holding its password can read a pseudonym or a sealed
-- contact.
--
-- Run it as the owner of sealbook's tables, after `sealbook db upgrade`:
--
--   psql -v staff_role=sealbook_staff -v schema=public -f docs/staff_role.sql "$OWNER_URL"
--   psql -c '\password sealbook_staff' "$OWNER_URL"
--
-- then give staff SEALBOOK_DATABASE_URL=postgresql://sealbook_staff@HOST:5432/DBNAME.
-- Run it again after each upgrade that adds tables: new tables get no
-- privilege until a grant here names them.

CREATE ROLE :"staff_role" LOGIN;

GRANT USAGE ON SCHEMA :"schema" TO :"staff_role";

-- The tool refuses to run against a database at another migration.
GRANT SELECT ON alembic_version TO :"staff_role";

-- Staff append to the audit log and read it, but cannot change or delete an entry.
GRANT SELECT, INSERT ON audit_entries TO :"staff_role";

-- Staff queue notices (staff messages) and list them. They may write a
-- notice's params but never read them back: the listing shows ids, kinds
-- and states only.
GRANT SELECT (id, kind, contact_id, booking_id, reference, status, due_at, priority_at, attempts,
              last_error_class, dedupe_key, created_at, finished_at)
    ON outbox_notices TO :"staff_role";
GRANT INSERT ON outbox_notices TO :"staff_role";
-- Withdrawing a cancelled booking's pending reminders.
GRANT UPDATE (status, finished_at) ON outbox_notices TO :"staff_role";
GRANT USAGE ON SEQUENCE outbox_notices_id_seq TO :"staff_role";

-- The clinic's set-up: read by every booking command, written by `import`
-- and `leave`. No table here contains anything about a patient.
GRANT SELECT, INSERT, UPDATE, DELETE
    ON clinics, practitioners, appointment_types, type_offers, weekly_sessions, date_overrides
    TO :"staff_role";
GRANT USAGE ON SEQUENCE clinics_id_seq, practitioners_id_seq, appointment_types_id_seq,
    weekly_sessions_id_seq, date_overrides_id_seq TO :"staff_role";

-- Bookings: staff read them and move, cancel and record visits; they do not
-- create them (patients book through the bot). A booking's contact_id is an
-- internal row id that leads nowhere without a privilege on contacts.
GRANT SELECT ON bookings TO :"staff_role";
GRANT UPDATE (practitioner_id, starts_at, ends_at, occupied_until, status, updated_at, cancelled_at,
              checked_in_at, consult_started_at, consult_finished_at, no_show_at, moves)
    ON bookings TO :"staff_role";
-- The time cells that make a double booking impossible: a move releases and claims them.
GRANT SELECT, INSERT, DELETE ON booking_cells TO :"staff_role";

-- Running late: `late` and `away` record declarations, and the projection
-- remembers which late-notice step each booking has been sent.
GRANT SELECT, INSERT, UPDATE, DELETE ON delay_declarations, late_notice_steps TO :"staff_role";
GRANT USAGE ON SEQUENCE delay_declarations_id_seq TO :"staff_role";

-- No grant on contacts or delivery_attempts: the foreign key from a notice
-- to its contact is checked with the table owner's privileges, so queueing
-- a notice needs none.
