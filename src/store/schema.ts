// The store's tables, versioned. Migration N takes a store from version N to N+1; a store's
// version is PRAGMA user_version in SQLite, a row of copilog_schema in PostgreSQL. Both dialects
// of a migration sit side by side so the two stores keep the same tables. Every table carries the tenant, so one store can hold
// many tenants (the fleet). Interactions keep typed columns for what people filter on, plus the
// raw JSON exactly as Graph sent it.
export interface Migration {
  sqlite: string;
  postgres: string;
}

/**
 * SQL functions the SQLite migrations call, registered on the connection before they run (the
 * store's own code computes the same values for new rows).
 */
export const SQLITE_FUNCTIONS = { searchText: 'copilog_search_text', searchTags: 'copilog_search_tags' } as const;

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
  {
    // v2, for copilog serve: full-text search over prompt and response text (src/store/text.ts:
    // bodies, adaptive-card text, attachment, link, context and mention names). The FTS index is
    // contentless (it holds no second copy of the text) and keyed by the row's rowid, so the
    // interactions table is rebuilt once with an explicit INTEGER PRIMARY KEY (seq): an implicit
    // rowid may be renumbered by VACUUM, which would silently point the index at other rows.
    // Every v1 column is kept as it was; (tenant_id, user_id, id) stays unique.
    sqlite: `
      CREATE TABLE interactions_v2 (
        seq INTEGER PRIMARY KEY,
        tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, id TEXT NOT NULL,
        created_ms INTEGER NOT NULL, created_date_time TEXT NOT NULL,
        app_class TEXT, interaction_type TEXT, session_id TEXT, request_id TEXT, conversation_type TEXT,
        json TEXT NOT NULL, first_run INTEGER, last_run INTEGER,
        UNIQUE (tenant_id, user_id, id)
      );
      INSERT INTO interactions_v2 (seq, tenant_id, user_id, id, created_ms, created_date_time, app_class, interaction_type, session_id, request_id, conversation_type, json, first_run, last_run)
        SELECT rowid, tenant_id, user_id, id, created_ms, created_date_time, app_class, interaction_type, session_id, request_id, conversation_type, json, first_run, last_run
        FROM interactions ORDER BY rowid;
      DROP TABLE interactions;
      ALTER TABLE interactions_v2 RENAME TO interactions;
      CREATE INDEX interactions_by_user_time ON interactions (tenant_id, user_id, created_ms, id);
      CREATE INDEX interactions_by_session ON interactions (tenant_id, user_id, session_id, created_ms, id);
      CREATE INDEX interactions_by_time ON interactions (tenant_id, created_ms);
      -- Newest-first pages across every tenant (serve's default view) walk this index.
      CREATE INDEX interactions_by_created ON interactions (created_ms);
      CREATE VIRTUAL TABLE interaction_text USING fts5 (text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
      INSERT INTO interaction_text (rowid, text) SELECT seq, copilog_search_text(json) FROM interactions;
    `,
    // serve reads SQLite stores only for now (its StoreReader has no PostgreSQL implementation):
    // on PostgreSQL this version changes nothing, so version numbers stay the same on both.
    postgres: `SELECT 1`,
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
    postgres: `
      CREATE TABLE watch_subscriptions (
        tenant_id TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT, resource TEXT NOT NULL, client_state TEXT NOT NULL,
        notification_url TEXT NOT NULL, expiration_ms BIGINT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id)
      );
      CREATE TABLE notifications (
        seq BIGSERIAL PRIMARY KEY, tenant_id TEXT NOT NULL, subscription_id TEXT NOT NULL, user_id TEXT,
        kind TEXT NOT NULL, lifecycle_event TEXT, resource_id TEXT, received_at TEXT NOT NULL, processed_at TEXT, attempts INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX notifications_pending ON notifications (tenant_id, processed_at, seq);
    `,
  },
  {
    // v4, for copilog serve on large stores: the search index gains a second column, tags
    // (src/store/tags.ts: tenant, user, appClass, interactionType and the day in blocks of 1, 8,
    // 64 and 512 days), so filters narrow inside the index and a common word is searched a few
    // days at a time, newest first. The index is rebuilt from the stored JSON (the text column is
    // the same as v2's), then merged into one segment. interactions_by_seq gives each match's
    // time without reading its row (rows hold the JSON: one page read each).
    sqlite: `
      DROP TABLE interaction_text;
      CREATE VIRTUAL TABLE interaction_text USING fts5 (text, tags, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
      INSERT INTO interaction_text (rowid, text, tags)
        SELECT seq, copilog_search_text(json), copilog_search_tags(tenant_id, user_id, app_class, interaction_type, created_ms) FROM interactions;
      INSERT INTO interaction_text (interaction_text) VALUES ('optimize');
      CREATE INDEX interactions_by_seq ON interactions (seq, created_ms);
    `,
    // SQLite only (serve's search index), as v2: nothing changes on PostgreSQL.
    postgres: `SELECT 1`,
  },
  {
    // v5, for serve's usage dashboard: the time index also covers what the dashboard groups and
    // counts by (user, appClass, interactionType, session), so its totals, days, apps and top users
    // are read from the index instead of rows that each hold the JSON (25 s → 5 s on 1,000,000).
    // Same name and leading columns, so every query that used it still can.
    sqlite: `
      DROP INDEX interactions_by_time;
      CREATE INDEX interactions_by_time ON interactions (tenant_id, created_ms, user_id, app_class, interaction_type, session_id);
    `,
    // SQLite only, as v2 and v4: serve reads SQLite stores.
    postgres: `SELECT 1`,
  },
  {
    // v6, for the fleet's write rate: PostgreSQL never used interactions_by_session. Conversations
    // are read in (user, coalesce(session_id, ''), time) order, which that index cannot give; the
    // planner walks the primary key and sorts each user's rows (an incremental sort). The index
    // only cost every page write: without it bench/pg-pages measured 4–24% less server CPU per page.
    sqlite: `SELECT 1`,
    postgres: `DROP INDEX IF EXISTS interactions_by_session`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;
