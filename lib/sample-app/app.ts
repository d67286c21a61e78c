import type { App } from 'aws-cdk-lib';
import { findEnvironment, findService } from '../../lambdas/domain/config';
import { loadConfigFile } from '../config/load';
import { SampleApplicationStack } from './sample-application-stack';

export interface SampleAppOptions {
  /** The config file. @default the sample config */
  readonly config?: string;
  /** @default 'staging' */
  readonly environment?: string;
  /** @default the environment's first service */
  readonly service?: string;
}

/** Adds the sample application's stack for one service of the config to the app. */
export function buildSampleApp(app: App, options: SampleAppOptions = {}): SampleApplicationStack {
  const config = loadConfigFile(options.config);
  const envName = options.environment ?? 'staging';
  const environment = findEnvironment(config, envName);
  if (!environment) {
    throw new Error(
      `no environment "${envName}" in the config (environments: ${config.environments.map((e) => e.name).join(', ')})`,
    );
  }
  const service = findService(environment, options.service ?? environment.services[0]!.name);
  if (!service) {
    throw new Error(
      `no service "${options.service}" in ${envName} (services: ${environment.services.map((s) => s.name).join(', ')})`,
    );
  }
  return new SampleApplicationStack(app, `${config.project}-SampleApp-${environment.name}-${service.name}`, {
    environment,
    service,
    // The region of the environment; the account of the credentials it is deployed with (the config's account for
    // this environment must be that one). Leaving the account open lets the VPC take the region's first two zones.
    env: { region: environment.region },
    description: `Sample application for the release controller: ${service.name} in ${environment.name}`,
  });
}
