#!/usr/bin/env node
/**
 * The sample application's CDK app: one stack with an ALB, two target groups and an ECS service with the EXTERNAL
 * deployment controller, shaped after a service of the config. Only wiring.
 *
 *   npx cdk deploy --app 'npx tsx bin/sample-app.ts' -c environment=staging [-c service=checkout]
 */
import { App } from 'aws-cdk-lib';
import { addChecks } from '../lib/checks';
import { buildSampleApp } from '../lib/sample-app/app';

const app = new App();
try {
  buildSampleApp(app, {
    config: app.node.tryGetContext('config'),
    environment: app.node.tryGetContext('environment'),
    service: app.node.tryGetContext('service'),
  });
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
addChecks(app);
