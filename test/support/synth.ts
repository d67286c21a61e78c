import { App } from 'aws-cdk-lib';
import { parseProjectConfig, type ProjectConfig } from '../../lambdas/domain/config';
import { buildApp } from '../../lib/app';
import { loadConfigFile } from '../../lib/config/load';

/** The sample config, validated, as the CDK app reads it. */
export const sampleConfig = (): ProjectConfig => loadConfigFile();

/** Builds the app without bundling the Lambdas (assertions do not need the bundles; esbuild takes seconds). */
export function synthApp(config: ProjectConfig = sampleConfig()) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = buildApp(app, config);
  return { app, stacks };
}

export { parseProjectConfig };
