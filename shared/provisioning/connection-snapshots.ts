// The connection as the operation pipeline reads it: every operation needs its connection (status, settings,
// mapping, credentials), and reading the row for each one was a Table transaction per operation. This decorator
// keeps, per instance, a copy at most `maxAgeMs` old for the pipeline (`recent`), and refreshes that copy with
// everything this instance writes or reads fresh: a change made through this instance (an admin's PATCH, a status
// the pipeline sets) holds or releases the next operation at once; one made through another instance of the app
// is seen within `maxAgeMs` — except that a copy which would hold an operation is never trusted (read again), so
// a release is never undone by an old copy. Every other reader (the admin API, configuration writes with their
// ETags) reads the row itself. maxAgeMs 0: no copy is kept.
import type { Connection } from '../domain/connection.js';
import type { Clock, ConnectionRepository } from './ports.js';

interface Snapshot {
  at: number;
  connection: Promise<Connection | undefined>;
}

export class ConnectionSnapshots implements ConnectionRepository {
  private readonly snapshots = new Map<string, Snapshot>();

  constructor(
    private readonly rows: ConnectionRepository,
    private readonly clock: Clock,
    private readonly maxAgeMs: number,
  ) {}

  /**
   * The connection as of at most maxAgeMs ago; operations arriving together share one read. Only a copy that lets
   * operations run is served: one that would hold them (not ready, being deleted, gone) is read again, so operations
   * released on another instance (a test made the connection ready) are not held again by a copy older than that.
   */
  async recent(id: string): Promise<Connection | undefined> {
    const now = this.clock.now().getTime();
    const kept = this.snapshots.get(id);
    if (kept && now - kept.at <= this.maxAgeMs) {
      const connection = await kept.connection;
      if (connection?.status === 'ready' && !connection.deletion) return connection;
    }
    return this.get(id);
  }

  get(id: string): Promise<Connection | undefined> {
    const read = this.rows.get(id);
    this.keep(id, read);
    return read;
  }

  list(): Promise<Connection[]> {
    return this.rows.list();
  }

  async create(connection: Connection): Promise<Connection> {
    return this.written(connection.id, await this.rows.create(connection));
  }

  async replace(connection: Connection): Promise<Connection> {
    try {
      return this.written(connection.id, await this.rows.replace(connection));
    } catch (error) {
      // Someone else wrote it (or it is gone): what this instance keeps is no longer known to be current.
      this.snapshots.delete(connection.id);
      throw error;
    }
  }

  async delete(id: string, etag?: string): Promise<boolean> {
    try {
      return await this.rows.delete(id, etag);
    } finally {
      this.snapshots.delete(id);
    }
  }

  private written(id: string, connection: Connection): Connection {
    this.keep(id, Promise.resolve(connection));
    return connection;
  }

  private keep(id: string, connection: Promise<Connection | undefined>): void {
    if (this.maxAgeMs <= 0) return;
    const snapshot = { at: this.clock.now().getTime(), connection };
    this.snapshots.set(id, snapshot);
    // A failed read is not kept: the next operation reads again.
    connection.catch(() => {
      if (this.snapshots.get(id) === snapshot) this.snapshots.delete(id);
    });
  }
}
