// The store's tables, versioned. Migration N takes a store from version N to N+1; a store's
// version is PRAGMA user_version in SQLite. Every table carries the tenant, so one store can hold
// many tenants (the fleet). Interactions keep typed columns for what people filter on, plus the
// raw JSON exactly as Graph sent it.
export interface Migration {
  sqlite: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    sqlite: `
      CREATE TABLE users (
        tenant_id TEXT NOT NULL, id TEXT NOT NULL, user_principal_name TEXT, display_name TEXT,
        first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id)
      ) WITHOUT ROWID;
      CREATE TABLE interactions (
        tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, id TEXT NOT NULL,
        created_ms INTEGER NOT NULL, created_date_time TEXT NOT NULL,
        app_class TEXT, interaction_type TEXT, session_id TEXT, request_id TEXT, conversation_type TEXT,
        json TEXT NOT NULL, first_run INTEGER, last_run INTEGER,
        PRIMARY KEY (tenant_id, user_id, id)
      );
      CREATE INDEX interactions_by_user_time ON interactions (tenant_id, user_id, created_ms, id);
      CREATE INDEX interactions_by_session ON interactions (tenant_id, user_id, session_id, created_ms, id);
      CREATE INDEX interactions_by_time ON interactions (tenant_id, created_ms);
      CREATE TABLE cursors (
        tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, scope TEXT NOT NULL,
        watermark_ms INTEGER, window_from_ms INTEGER, window_to_ms INTEGER, next_link TEXT, window_pages INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, user_id, scope)
      ) WITHOUT ROWID;
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL, kind TEXT NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL, options_json TEXT NOT NULL, summary_json TEXT
      );
      CREATE TABLE user_outcomes (
        run_id INTEGER NOT NULL REFERENCES runs (id), tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, user_principal_name TEXT,
        outcome TEXT NOT NULL, interactions INTEGER NOT NULL, added INTEGER NOT NULL, pages INTEGER NOT NULL,
        status INTEGER, code TEXT, message TEXT, request_id TEXT, client_request_id TEXT, date TEXT, verdict TEXT,
        PRIMARY KEY (run_id, user_id)
      );
    `,
  },
  {
    // copilog watch: the subscriptions it created (with the clientState it checks) and the
    // notifications it acknowledged, queued durably until the export machinery has read them.
    sqlite: `
      CREATE TABLE watch_subscriptions (
        tenant_id TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT, resource TEXT NOT NULL, client_state TEXT NOT NULL,
        notification_url TEXT NOT NULL, expiration_ms INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id)
      ) WITHOUT ROWID;
      CREATE TABLE notifications (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL, subscription_id TEXT NOT NULL, user_id TEXT,
        kind TEXT NOT NULL, lifecycle_event TEXT, resource_id TEXT, received_at TEXT NOT NULL, processed_at TEXT, attempts INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX notifications_pending ON notifications (tenant_id, processed_at, seq);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;
