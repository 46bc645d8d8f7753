/**
 * The state database's schema as forward migrations. Index i upgrades user_version i to i+1;
 * a release only ever appends to this list, so any older database can be brought up to date.
 */

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE scans (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('init', 'check')),
    trigger TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    condition TEXT NOT NULL CHECK (condition IN ('Running', 'Succeeded', 'Failed', 'Errored', 'Interrupted')),
    exit_code INTEGER,
    added INTEGER NOT NULL DEFAULT 0,
    changed INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    unverified INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error TEXT,
    log BLOB,
    aide_pid INTEGER,
    details_pruned INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX scans_started ON scans (started_at);
  CREATE TABLE scan_entries (
    scan_id INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    path BLOB NOT NULL,
    change TEXT NOT NULL CHECK (change IN ('added', 'removed', 'changed')),
    summary TEXT NOT NULL,
    attributes TEXT NOT NULL
  );
  CREATE INDEX scan_entries_scan ON scan_entries (scan_id);
  CREATE TABLE scan_unverified (
    scan_id INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    path BLOB NOT NULL,
    reason TEXT NOT NULL
  );
  CREATE INDEX scan_unverified_scan ON scan_unverified (scan_id);
  CREATE TABLE baselines (
    id INTEGER PRIMARY KEY,
    scan_id INTEGER NOT NULL REFERENCES scans (id),
    created_at INTEGER NOT NULL,
    db_sha256 TEXT NOT NULL,
    db_size INTEGER NOT NULL
  );
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 2: findings of the watchers (audit-log denials, policy, container files), collapsible bursts.
  `
  CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    observed_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',
    count INTEGER NOT NULL DEFAULT 1,
    fingerprint TEXT
  );
  CREATE INDEX findings_time ON findings (observed_at);
  CREATE INDEX findings_kind ON findings (kind, observed_at);
  CREATE INDEX findings_fingerprint ON findings (fingerprint, last_seen_at);
  `,
  // 3: the count already announced (syslog, outbox) per finding, so a collapsed burst's final
  // count is announced exactly once when its window closes (findings.ts).
  `
  ALTER TABLE findings ADD COLUMN reported_count INTEGER NOT NULL DEFAULT 1;
  CREATE INDEX findings_open_bursts ON findings (kind) WHERE count > reported_count;
  `,
  // 4: the baseline index, AIDE's database parsed after each init (fast check and fast path).
  // Fields stay as AIDE wrote them (JSON of the @@db_spec fields); attr is AIDE's per-entry set.
  `
  CREATE TABLE baseline_index (
    path BLOB PRIMARY KEY,
    attr INTEGER NOT NULL,
    fields TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE baseline_index_staging (
    path BLOB PRIMARY KEY,
    attr INTEGER NOT NULL,
    fields TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE baseline_index_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    baseline_id INTEGER NOT NULL REFERENCES baselines (id),
    db_sha256 TEXT NOT NULL,
    db_spec TEXT NOT NULL,
    entries INTEGER NOT NULL,
    built_at INTEGER NOT NULL,
    conf_sha256 TEXT NOT NULL DEFAULT ''
  );
  `,
  // 5: open bursts are found in memory (open-bursts.ts); the fingerprint index cost more per
  // insert than the rest of a finding's write.
  `
  DROP INDEX findings_fingerprint;
  `,
]

export const SCHEMA_VERSION = MIGRATIONS.length
