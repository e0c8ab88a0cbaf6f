/** The fleet driver: the local reference environment, reached as an administrator would reach a real one. */
import Database from 'better-sqlite3';
import { FleetClient, FleetHttpError, FleetUnreachableError } from '../../fleet/client';
import { NAMED_USERS, type ImpactReport } from '../../contract/impact';
import { BATCH_STATUS, whenNotBusy } from '../../fleet/database';
import type { AosInstance } from '../../fleet/schemas';
import type {
  AosState,
  DriverErrorKind,
  EnvironmentDrivers,
  FlagStore,
  LicenseConfiguration,
  PlannedCall,
  ProbeUsers,
  SignInProbe,
} from '../capabilities';
import type { FleetSettings } from './settings';

const ADMIN_ROLE = 'System administrator';
const MAINTENANCE_ROLE = 'Maintenance mode user';

/**
 * How long a query waits for another connection's lock before the database is reported unreachable
 * (and the activity retried by policy).
 */
const BUSY_BUDGET_MS = 1000;

/**
 * The environment database, reached with parameterised SQL like the article's manual procedure. The
 * connection has no busy timeout: SQLite's would wait synchronously, blocking the worker's event loop
 * (every other activity, heartbeat and workflow activation) while one environment's database is
 * locked; every query waits in `whenNotBusy` instead, a transaction run again whole.
 */
class SqliteFlagStore implements FlagStore {
  private db?: Database.Database;
  /** Prepared once per connection: preparing compiles the SQL again at every call. */
  private readonly statements = new Map<string, Database.Statement>();
  constructor(private readonly file: string) {}

  private connection(): Database.Database {
    this.db ??= new Database(this.file, { fileMustExist: true, timeout: 0 });
    return this.db;
  }

  private statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) this.statements.set(sql, (prepared = this.connection().prepare(sql)));
    return prepared;
  }

  private readFlag(): 0 | 1 {
    const row = this.statement('SELECT VALUE FROM SQLSYSTEMVARIABLES WHERE PARM = ?').get(
      'CONFIGURATIONMODE',
    ) as { VALUE: number } | undefined;
    return row?.VALUE === 1 ? 1 : 0;
  }

  async readConfigurationMode(): Promise<0 | 1> {
    return whenNotBusy(() => this.readFlag(), BUSY_BUDGET_MS);
  }

  async writeConfigurationMode(value: 0 | 1): Promise<{ previous: 0 | 1 }> {
    const swap = this.connection().transaction((v: 0 | 1) => {
      const previous = this.readFlag();
      this.statement(
        'INSERT INTO SQLSYSTEMVARIABLES (PARM, VALUE) VALUES (?, ?) ON CONFLICT(PARM) DO UPDATE SET VALUE = excluded.VALUE',
      ).run('CONFIGURATIONMODE', v);
      return { previous };
    });
    return whenNotBusy(() => swap.immediate(value), BUSY_BUDGET_MS);
  }

  async probeUsers(): Promise<ProbeUsers> {
    return whenNotBusy(() => this.readProbeUsers(), BUSY_BUDGET_MS);
  }

  private readProbeUsers(): ProbeUsers {
    const withRole = this.statement(
      `SELECT u.ID FROM USERINFO u JOIN SECURITYUSERROLE r ON r.USERID = u.ID
       WHERE u.ENABLED = 1 AND r.ROLE = ? ORDER BY u.ID LIMIT 1`,
    );
    const regular = this.statement(
      `SELECT u.ID FROM USERINFO u WHERE u.ENABLED = 1 AND NOT EXISTS (
         SELECT 1 FROM SECURITYUSERROLE r WHERE r.USERID = u.ID AND r.ROLE IN (?, ?)) ORDER BY u.ID LIMIT 1`,
    );
    const id = (row: unknown) => (row as { ID: string } | undefined)?.ID;
    return {
      administrator: id(withRole.get(ADMIN_ROLE)),
      maintenanceUser: id(withRole.get(MAINTENANCE_ROLE)),
      regularUser: id(regular.get(ADMIN_ROLE, MAINTENANCE_ROLE)),
    };
  }

  /**
   * Who works on the environment, read as the d365 profiles read it (SYSCLIENTSESSIONS, BATCHJOB):
   * active sessions with their users' names, batch jobs executing or waiting to start by `until`.
   */
  async readImpact(until: string): Promise<ImpactReport> {
    return whenNotBusy(() => this.readImpactNow(until), BUSY_BUDGET_MS);
  }

  private readImpactNow(until: string): ImpactReport {
    const users = this.statement(
      `SELECT COALESCE(u.NAME, s.USERID) AS NAME FROM SYSCLIENTSESSIONS s LEFT JOIN USERINFO u ON u.ID = s.USERID
       WHERE s.STATUS = 1 GROUP BY s.USERID ORDER BY MIN(s.LOGINDATETIME)`,
    )
      .pluck()
      .all() as string[];
    const jobs = this.statement(
      `SELECT CAPTION, STATUS, STARTDATETIME FROM BATCHJOB
       WHERE STATUS = ? OR (STATUS = ? AND STARTDATETIME <= ?) ORDER BY STATUS DESC, STARTDATETIME`,
    ).all(BATCH_STATUS.executing, BATCH_STATUS.waiting, new Date(until).toISOString()) as {
      CAPTION: string;
      STATUS: number;
      STARTDATETIME: string;
    }[];
    return {
      users: { count: users.length, names: users.slice(0, NAMED_USERS) },
      batchJobs: jobs.map((j) =>
        j.STATUS === BATCH_STATUS.executing
          ? { name: j.CAPTION, status: 'executing' as const }
          : { name: j.CAPTION, status: 'waiting' as const, startsAt: j.STARTDATETIME },
      ),
    };
  }

  close(): void {
    this.statements.clear();
    this.db?.close();
    this.db = undefined;
  }
}

function toState(i: AosInstance): AosState {
  const running = i.status === 'running';
  const crashed = i.status === 'stopped' && i.desired === 'running' && !!i.lastError?.startsWith('crashed');
  return {
    id: i.id,
    role: i.role,
    running,
    status: crashed ? 'crashed' : i.status,
    maintenanceMode: running ? i.maintenanceMode : null,
  };
}

class FleetProbe implements SignInProbe {
  constructor(
    private readonly client: FleetClient,
    private readonly store: SqliteFlagStore,
  ) {}

  async probeUsers(): Promise<ProbeUsers> {
    return this.store.probeUsers();
  }

  async signIn(aosId: string, user: string, signal?: AbortSignal) {
    const aos = await this.client.getAos(aosId, { signal });
    if (aos.status !== 'running' || aos.port === null)
      return { allowed: false, detail: `${aosId} is not running` };
    const answer = await this.client.signIn(aos.port, user, { signal });
    return answer.allowed
      ? { allowed: true, detail: `${user} signed in on ${aosId}` }
      : { allowed: false, detail: `${user} refused on ${aosId} (${answer.status}): ${answer.error}` };
  }
}

/** Through the running interactive AOS, as an administrator would use the License configuration page. */
class FleetLicenseConfiguration implements LicenseConfiguration {
  constructor(private readonly client: FleetClient) {}

  private async port(signal?: AbortSignal): Promise<number> {
    const aos = (await this.client.listAos({ signal })).find(
      (a) => a.role === 'interactive' && a.status === 'running',
    );
    if (!aos?.port)
      throw new FleetHttpError(
        503,
        'no interactive AOS is running to open the License configuration',
        '/aos',
      );
    return aos.port;
  }

  async list(signal?: AbortSignal): Promise<Record<string, boolean>> {
    const { keys } = await this.client.listConfigurationKeys(await this.port(signal), { signal });
    return Object.fromEntries(keys.map((k) => [k.name, k.enabled]));
  }

  async set(name: string, enabled: boolean, signal?: AbortSignal): Promise<void> {
    await this.client.setConfigurationKey(await this.port(signal), name, enabled, { signal });
  }
}

/**
 * The supervisor's HTTP answers and SQLite's codes, in the orchestrator's terms: an unreachable part
 * or a 5xx is transient; an unknown instance or another refused request is not.
 */
function classifyFleetError(err: unknown): DriverErrorKind | undefined {
  if (err instanceof FleetUnreachableError) return 'controlPlaneUnreachable';
  if (err instanceof FleetHttpError)
    return err.status === 404 ? 'unknownAos' : err.status >= 500 ? 'unavailable' : 'rejected';
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR)/.test(code))
    return 'databaseUnreachable';
  return undefined;
}

/** The SQL and HTTP requests the driver makes for a change, as a plan shows them. */
function describeFleetCall(env: FleetSettings, url: string, call: PlannedCall): string {
  switch (call.call) {
    case 'writeFlag':
      return `UPDATE SQLSYSTEMVARIABLES SET VALUE = ${call.value} WHERE PARM = 'CONFIGURATIONMODE' (${env.database})`;
    case 'restartAos':
    case 'stopAos':
      return `POST ${url}/aos/${call.aosId}/${call.call === 'restartAos' ? 'restart' : 'stop'}`;
    case 'setKey':
      return `PUT http://127.0.0.1:<interactive AOS port>/license/configuration-keys/${call.key} {"enabled": ${call.enabled}}`;
  }
}

/** `name` is the environment's name in temporal.yaml: its supervisor serves it under that name. */
export function createFleetDrivers(name: string, env: FleetSettings): EnvironmentDrivers {
  const url = `http://127.0.0.1:${env.supervisorPort}/environments/${encodeURIComponent(name)}`;
  const client = new FleetClient(url);
  const store = new SqliteFlagStore(env.database);
  return {
    flagStore: store,
    aosControl: {
      list: async (signal) => (await client.listAos({ signal })).map(toState),
      // The supervisor answers an unknown ID with 404 itself: the caller's listing is not needed.
      restart: async (id, _listed, signal) => toState(await client.restart(id, { signal })),
      stop: async (id, signal) => toState(await client.stop(id, { signal })),
    },
    probe: new FleetProbe(client, store),
    license: new FleetLicenseConfiguration(client),
    // The fleet has no integrations to tell of: the preview says so.
    impact: { read: (until) => store.readImpact(until) },
    classify: classifyFleetError,
    describe: (call) => describeFleetCall(env, url, call),
    close: () => store.close(),
  };
}
