-- The SQLite store's migration 7: group roles. An admin may rename the group and remove members. A group
-- made before roles gets as admins the members who were in it from its start.
ALTER TABLE room_members ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
UPDATE room_members SET role = 'admin'
 WHERE room_id IN (SELECT id FROM rooms WHERE kind = 'group')
   AND joined_at = (SELECT MIN(f.joined_at) FROM room_members f WHERE f.room_id = room_members.room_id);
