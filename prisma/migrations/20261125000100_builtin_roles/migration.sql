-- The built-in roles and their permissions (see the contract header).
INSERT INTO "Role" ("id", "key", "name", "permissions") VALUES
  (gen_random_uuid(), 'owner',   'Owner',   ARRAY['approval:manage', 'approval:resolve', 'approval:view', 'directory:manage']),
  (gen_random_uuid(), 'admin',   'Admin',   ARRAY['approval:manage', 'approval:resolve', 'approval:view', 'directory:manage']),
  (gen_random_uuid(), 'manager', 'Manager', ARRAY['approval:resolve', 'approval:view']),
  (gen_random_uuid(), 'member',  'Member',  ARRAY['approval:resolve']);
