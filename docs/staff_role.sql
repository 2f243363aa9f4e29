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
GRANT INSERT (kind, contact_id, booking_id, reference, params, status, due_at, priority_at,
              attempts, dedupe_key, created_at)
    ON outbox_notices TO :"staff_role";
-- Withdrawing a cancelled booking's pending reminders.
GRANT UPDATE (status, finished_at) ON outbox_notices TO :"staff_role";
GRANT USAGE ON SEQUENCE outbox_notices_id_seq TO :"staff_role";

-- No grant on contacts or delivery_attempts: the foreign key from a notice
-- to its contact is checked with the table owner's privileges, so queueing
-- a notice needs none.
