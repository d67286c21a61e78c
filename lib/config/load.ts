import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, parseProjectConfig, type ProjectConfig } from '../../lambdas/domain/config';

/** The config file the CDK app and the CLI read unless told otherwise (`ENVCTL_CONFIG` or `--config`). */
export const DEFAULT_CONFIG_FILE = path.join(__dirname, '..', '..', 'config', 'environments.json');

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/** Reads and validates a config file; every failure is a ConfigError whose message names the file. */
export function loadConfigFile(
  file: string = process.env.ENVCTL_CONFIG ?? DEFAULT_CONFIG_FILE,
): ProjectConfig {
  // Relative to the working directory when the file is under it, as typed; otherwise the absolute path.
  const relative = path.relative(process.cwd(), file);
  const shown =
    relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : path.resolve(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = (code && READ_ERRORS[code]) ?? code ?? String(err);
    throw new ConfigError(`${shown}: cannot read the config file: ${why}`, []);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${shown}: not valid JSON (${(err as Error).message})`, []);
  }
  return parseProjectConfig(raw, shown);
}
