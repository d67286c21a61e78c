import type { App } from 'aws-cdk-lib';
import type { ProjectConfig } from '../lambdas/domain/config';
import { stackName } from '../lambdas/domain/naming';
import { EnvironmentControllerStack } from './stacks/environment-controller-stack';

/** Adds one stack per configured environment to the app. */
export function buildApp(app: App, config: ProjectConfig): EnvironmentControllerStack[] {
  return config.environments.map(
    (environment) =>
      new EnvironmentControllerStack(app, stackName(config.project, environment.name), {
        config,
        environment,
        env: { account: environment.account, region: environment.region },
        description: `Release controller for the ${environment.name} environment (${environment.type})`,
        terminationProtection: environment.type === 'production',
      }),
  );
}
