/** What the figures were measured on: read from the machine and the toolchain, never assumed. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly moto: string;
  readonly esbuild: string;
  readonly awsCdkLib: string;
  readonly awsSdk: string;
}

export const ROOT = path.join(__dirname, '..', '..');

function packageVersion(name: string): string {
  try {
    const file = path.join(ROOT, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** moto's version as the Python that runs `moto_server` reports it. */
function motoVersion(): string {
  const out = spawnSync('python3', ['-c', 'import moto; print(moto.__version__)'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return out.status === 0 ? out.stdout.trim() : 'unknown';
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    moto: motoVersion(),
    esbuild: packageVersion('esbuild'),
    awsCdkLib: packageVersion('aws-cdk-lib'),
    awsSdk: packageVersion('@aws-sdk/client-dynamodb'),
  };
}

export const loadAverage = (): number => Math.round(os.loadavg()[0]! * 100) / 100;
