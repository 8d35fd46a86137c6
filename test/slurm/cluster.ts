// A real single-node Slurm cluster (Debian's slurmctld, slurmd, munge) under
// a temp folder, for the end-to-end Slurm tests: started by hand as root,
// no systemd, on free ports; stopped by the PIDs in its pid files.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Cluster {
  base: string;
  /** environment for Slurm clients (SLURM_CONF) */
  env: NodeJS.ProcessEnv;
  partition: string;
  stop(): void;
}

const BINARIES = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged', '/usr/bin/sbatch', '/usr/bin/munge'];

function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv, input?: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env, timeout: 120_000, ...(input !== undefined ? { input } : {}) });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why the cluster cannot be started here (undefined: it can). Installs the packages when missing. */
export function cannotStart(): string | undefined {
  if (process.platform !== 'linux') return 'Slurm tests need Linux';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'Slurm tests start slurmctld/slurmd/munged and must run as root';
  if (BINARIES.every(existsSync)) return undefined;
  const r = sh('flock', ['/tmp/apt.lock', 'apt-get', 'install', '-y', '--no-install-recommends', 'slurmctld', 'slurmd', 'slurm-client', 'munge']);
  if (r.status !== 0 || !BINARIES.every(existsSync)) return `Slurm packages (slurmctld slurmd slurm-client munge) could not be installed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' ')}`;
  return undefined;
}

function readPid(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
}

export async function startCluster(): Promise<Cluster> {
  const base = mkdtempSync(join(tmpdir(), 'mrcl-slurm-'));
  chmodSync(base, 0o755);
  const pids = { munged: join(base, 'munge', 'munged.pid'), slurmctld: join(base, 'slurmctld.pid'), slurmd: join(base, 'slurmd.pid') };
  const stop = () => {
    // slurmd, slurmctld, then munged: each by its own PID
    for (const p of [pids.slurmd, pids.slurmctld, pids.munged]) {
      const pid = readPid(p);
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        spawnSync('sleep', ['0.1']);
      }
    }
  };
  try {
    // munge: private key, socket, log, pid and seed under base/munge
    const mdir = join(base, 'munge');
    mkdirSync(mdir, { mode: 0o755 });
    const id = sh('id', ['-u', 'munge']);
    const gid = sh('id', ['-g', 'munge']);
    const uid = Number(id.stdout.trim());
    const g = Number(gid.stdout.trim());
    chownSync(mdir, uid, g);
    chmodSync(mdir, 0o755);
    const key = join(mdir, 'munge.key');
    writeFileSync(key, randomBytes(1024), { mode: 0o400 });
    chownSync(key, uid, g);
    const socket = join(mdir, 'munge.socket');
    const m = sh('runuser', ['-u', 'munge', '--', 'munged', `--socket=${socket}`, `--key-file=${key}`, `--log-file=${join(mdir, 'munged.log')}`, `--pid-file=${pids.munged}`, `--seed-file=${join(mdir, 'munged.seed')}`]);
    if (m.status !== 0) throw new Error(`munged did not start: ${m.stderr}`);
    for (let i = 0; ; i++) {
      const cred = sh('munge', ['-S', socket, '-n']);
      if (cred.status === 0 && /Success/.test(sh('unmunge', ['-S', socket], undefined, cred.stdout).stdout)) break;
      if (i > 100) throw new Error('munged does not answer');
      await sleep(100);
    }
    // slurm.conf: this node as slurmd -C sees it, on free-ish ports
    const node = sh('slurmd', ['-C']).stdout.split('\n').find((l) => l.startsWith('NodeName='));
    if (!node) throw new Error('slurmd -C printed no NodeName line');
    const port = 20000 + Math.floor(Math.random() * 20000);
    for (const d of ['state', 'spool', 'logs']) mkdirSync(join(base, d));
    const conf = join(base, 'slurm.conf');
    writeFileSync(
      conf,
      [
        'ClusterName=mrcltest',
        'SlurmctldHost=localhost',
        `SlurmctldPort=${port}`,
        `SlurmdPort=${port + 1}`,
        'SlurmUser=root',
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${socket}`,
        `StateSaveLocation=${join(base, 'state')}`,
        `SlurmdSpoolDir=${join(base, 'spool')}`,
        `SlurmctldPidFile=${pids.slurmctld}`,
        `SlurmdPidFile=${pids.slurmd}`,
        `SlurmctldLogFile=${join(base, 'logs', 'slurmctld.log')}`,
        `SlurmdLogFile=${join(base, 'logs', 'slurmd.log')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'JobCompType=jobcomp/filetxt',
        `JobCompLoc=${join(base, 'logs', 'jobcomp.txt')}`,
        'SwitchType=switch/none',
        'MpiDefault=none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU',
        'ReturnToService=2',
        'MinJobAge=600',
        'MailProg=/bin/true',
        'SchedulerParameters=batch_sched_delay=0',
        `${node.trim()} NodeAddr=127.0.0.1 State=UNKNOWN`,
        'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
        '',
      ].join('\n'),
    );
    const env = { ...process.env, SLURM_CONF: conf };
    const c = sh('slurmctld', ['-c', '-i'], env);
    if (c.status !== 0) throw new Error(`slurmctld did not start: ${c.stderr}`);
    const d = sh('slurmd', [], env);
    if (d.status !== 0) throw new Error(`slurmd did not start: ${d.stderr}`);
    for (let i = 0; ; i++) {
      const s = sh('sinfo', ['-h', '-N', '-o', '%t'], env);
      if (s.stdout.trim() === 'idle') break;
      if (i > 300) throw new Error(`the node did not become idle (sinfo: ${s.stdout.trim()} ${s.stderr.trim()})`);
      await sleep(100);
    }
    return { base, env, partition: 'debug', stop };
  } catch (e) {
    stop();
    throw e;
  }
}
