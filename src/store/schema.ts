// The store's tables, versioned. Migration N takes a store from version N to N+1; a store's
// version is PRAGMA user_version in SQLite, a row of copilog_schema in PostgreSQL. Both dialects
// of a migration sit side by side so the two stores keep the same tables. Every table carries the tenant, so one store can hold
// many tenants (the fleet). Interactions keep typed columns for what people filter on, plus the
// raw JSON exactly as Graph sent it.
export interface Migration {
  sqlite: string;
  postgres: string;
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
    // Text keys compare bytewise (COLLATE "C"), as SQLite's do: both stores stream in one order.
    // The item's JSON is text, not jsonb: kept exactly as Graph sent it.
    postgres: `
      CREATE TABLE users (
        tenant_id TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, user_principal_name TEXT COLLATE "C", display_name TEXT,
        first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id)
      );
      CREATE TABLE interactions (
        tenant_id TEXT COLLATE "C" NOT NULL, user_id TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL,
        created_ms BIGINT NOT NULL, created_date_time TEXT NOT NULL,
        app_class TEXT, interaction_type TEXT, session_id TEXT COLLATE "C", request_id TEXT, conversation_type TEXT,
        json TEXT NOT NULL, first_run BIGINT, last_run BIGINT,
        PRIMARY KEY (tenant_id, user_id, id)
      );
      CREATE INDEX interactions_by_user_time ON interactions (tenant_id, user_id, created_ms, id);
      CREATE INDEX interactions_by_session ON interactions (tenant_id, user_id, session_id, created_ms, id);
      CREATE INDEX interactions_by_time ON interactions (tenant_id, created_ms);
      CREATE TABLE cursors (
        tenant_id TEXT COLLATE "C" NOT NULL, user_id TEXT COLLATE "C" NOT NULL, scope TEXT COLLATE "C" NOT NULL,
        watermark_ms BIGINT, window_from_ms BIGINT, window_to_ms BIGINT, next_link TEXT, window_pages INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, user_id, scope)
      );
      CREATE TABLE runs (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id TEXT COLLATE "C" NOT NULL, kind TEXT NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL, options_json TEXT NOT NULL, summary_json TEXT
      );
      CREATE INDEX runs_by_tenant ON runs (tenant_id, id);
      CREATE TABLE user_outcomes (
        run_id BIGINT NOT NULL REFERENCES runs (id), tenant_id TEXT COLLATE "C" NOT NULL, user_id TEXT COLLATE "C" NOT NULL, user_principal_name TEXT COLLATE "C",
        outcome TEXT COLLATE "C" NOT NULL, interactions INTEGER NOT NULL, added INTEGER NOT NULL, pages INTEGER NOT NULL,
        status INTEGER, code TEXT, message TEXT, request_id TEXT, client_request_id TEXT, date TEXT, verdict TEXT,
        PRIMARY KEY (run_id, user_id)
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;
