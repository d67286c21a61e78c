import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, parseProjectConfig, type ProjectConfig } from '../../lambdas/domain/config';

/** The config file the CDK app and the CLI read unless told otherwise (`ENVCTL_CONFIG` or `--config`). */
export const DEFAULT_CONFIG_FILE = path.join(__dirname, '..', '..', 'config', 'environments.json');

/** Reads and validates a config file; every failure is a ConfigError whose message names the file. */
export function loadConfigFile(file: string = process.env.ENVCTL_CONFIG ?? DEFAULT_CONFIG_FILE): ProjectConfig {
  const shown = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${shown}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, []);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${shown}: not valid JSON (${(err as Error).message})`, []);
  }
  return parseProjectConfig(raw, shown);
}
