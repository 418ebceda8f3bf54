import Database from "better-sqlite3";
import { CloudVolumeError } from "@cloudvolume/core";
import type { SpatialIndex, SpatialIndexDb, SpatialQueryOptions } from "@cloudvolume/format-precomputed";

/**
 * CloudVolume's SQL spatial index (to_sql / spatial_index_db) on SQLite through
 * better-sqlite3 (version 12: 13 crashes on Node 20). Schema, as CloudVolume writes it:
 *
 *   index_files(id INTEGER PRIMARY KEY AUTOINCREMENT, filename VARCHAR(100) NOT NULL)  -- base names of the .spatial files
 *   file_lookup(label INTEGER NOT NULL, fid INTEGER NOT NULL REFERENCES index_files(id), PRIMARY KEY(label, fid))
 *   indices: idxfname(index_files.filename), file_lbl(file_lookup.label), fname(file_lookup.fid)
 *
 * SQLite integers are signed 64-bit: a label >= 2^63 is stored as its two's-complement
 * negative value and read back as the unsigned label (CloudVolume's reader does the same
 * coercion; its Python writer cannot store such labels at all).
 */

export interface ToSqliteOptions extends SpatialQueryOptions {
  /** Create the label and file-id indices after loading (default true). */
  createIndices?: boolean;
  /** Files read per batch (default 500). */
  batch?: number;
}

export interface ToSqliteStats {
  files: number;
  rows: number;
}

/** `sqlite://path` or a plain path -> the file path; other schemes (mysql://) are unsupported here. */
export function sqlitePath(path: string): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(path);
  if (!m) return path;
  if (m[1].toLowerCase() === "sqlite") return path.slice(m[0].length);
  throw new CloudVolumeError("UNSUPPORTED_SCHEME", `spatial index database ${path}: only SQLite (a path or sqlite://path) is supported`);
}

const toSigned = (label: bigint) => BigInt.asIntN(64, label);
const toUnsigned = (v: bigint | number) => BigInt.asUintN(64, BigInt(v));

/**
 * Build a SQLite database of label -> .spatial file from every file of `index`
 * (CloudVolume's to_sqlite): drops and recreates both tables. A missing file fails
 * with NOT_FOUND unless allowMissing.
 */
export async function toSqlite(index: SpatialIndex, path: string, opts: ToSqliteOptions = {}): Promise<ToSqliteStats> {
  const db = new Database(sqlitePath(path));
  try {
    db.pragma("journal_mode = MEMORY");
    db.pragma("synchronous = OFF");
    db.exec(`
      DROP TABLE IF EXISTS index_files;
      DROP TABLE IF EXISTS file_lookup;
      CREATE TABLE index_files (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        filename VARCHAR(100) NOT NULL
      );
      CREATE INDEX idxfname ON index_files (filename);
      CREATE TABLE file_lookup (
        label INTEGER NOT NULL,
        fid INTEGER NOT NULL REFERENCES index_files(id),
        PRIMARY KEY(label, fid)
      );
    `);
    const insertFile = db.prepare("INSERT INTO index_files(filename) VALUES (?)");
    const insertLabel = db.prepare("INSERT INTO file_lookup(label, fid) VALUES (?, ?)");
    const stats: ToSqliteStats = { files: 0, rows: 0 };
    for await (const files of index.allFiles(opts)) {
      db.transaction(() => {
        for (const f of files) {
          const fid = insertFile.run(f.name.slice(f.name.lastIndexOf("/") + 1)).lastInsertRowid;
          for (const label of f.labels) insertLabel.run(toSigned(label), fid);
          stats.files++;
          stats.rows += f.labels.length;
        }
      })();
    }
    if (opts.createIndices ?? true) {
      db.exec("CREATE INDEX file_lbl ON file_lookup (label); CREATE INDEX fname ON file_lookup (fid);");
    }
    db.pragma("journal_mode = DELETE");
    db.pragma("synchronous = FULL");
    return stats;
  } finally {
    db.close();
  }
}

/** A read-only spatial index database (CloudVolume's spatial_index_db). */
export class SqliteSpatialIndexDb implements SpatialIndexDb {
  private constructor(private readonly db: Database.Database, readonly path: string) {}

  /** Open an existing database; NOT_FOUND when the file is missing, INVALID_METADATA without the two tables. */
  static open(path: string): SqliteSpatialIndexDb {
    const file = sqlitePath(path);
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
    } catch (cause) {
      throw new CloudVolumeError("NOT_FOUND", `spatial index database ${file} cannot be opened: ${(cause as Error).message}`, { key: file, cause });
    }
    db.defaultSafeIntegers(true);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('index_files', 'file_lookup')").all() as Array<{ name: string }>;
    if (tables.length !== 2) {
      db.close();
      throw new CloudVolumeError("INVALID_METADATA", `spatial index database ${file} lacks the index_files and file_lookup tables`, { key: file });
    }
    return new SqliteSpatialIndexDb(db, file);
  }

  allLabels(): BigUint64Array {
    const out: bigint[] = [];
    for (const row of this.db.prepare("SELECT DISTINCT label FROM file_lookup").raw().iterate() as Iterable<[bigint]>) out.push(toUnsigned(row[0]));
    const labels = BigUint64Array.from(out);
    labels.sort();
    return labels;
  }

  filesForLabel(label: bigint): string[] {
    const rows = this.db.prepare(
      "SELECT index_files.filename FROM file_lookup, index_files WHERE file_lookup.fid = index_files.id AND file_lookup.label = ? ORDER BY index_files.id",
    ).raw().all(toSigned(label)) as Array<[string]>;
    return rows.map((r) => String(r[0]));
  }

  fileLocations(labels?: readonly bigint[]): Map<bigint, string[]> {
    const out = new Map<bigint, string[]>();
    const add = (rows: Iterable<[bigint, string]>) => {
      for (const [l, f] of rows) {
        const label = toUnsigned(l);
        let list = out.get(label);
        if (!list) out.set(label, (list = []));
        list.push(String(f));
      }
    };
    const base = "SELECT file_lookup.label, index_files.filename FROM file_lookup, index_files WHERE file_lookup.fid = index_files.id";
    if (labels === undefined) {
      add(this.db.prepare(`${base} ORDER BY index_files.id`).raw().iterate() as Iterable<[bigint, string]>);
      return out;
    }
    const unique = [...new Set(labels)];
    for (let i = 0; i < unique.length; i += 500) {
      const part = unique.slice(i, i + 500);
      const sql = `${base} AND file_lookup.label IN (${part.map(() => "?").join(",")}) ORDER BY index_files.id`;
      add(this.db.prepare(sql).raw().all(...part.map(toSigned)) as Array<[bigint, string]>);
    }
    return out;
  }

  close(): void {
    this.db.close();
  }
}

/** `index` answering from the SQLite database at `path` (CloudVolume's spatial_index_db). Close it with `.db.close()`. */
export function sqliteSpatialIndex(index: SpatialIndex, path: string): SpatialIndex {
  return index.withDb(SqliteSpatialIndexDb.open(path));
}
