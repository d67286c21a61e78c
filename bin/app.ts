#!/usr/bin/env node
/** The CDK app: one EnvironmentController stack per environment in the config. Only wiring. */
import { App } from 'aws-cdk-lib';
import { addChecks } from '../lib/checks';
import { loadConfigFile } from '../lib/config/load';
import { buildApp } from '../lib/app';

const app = new App();
try {
  buildApp(app, loadConfigFile(app.node.tryGetContext('config') ?? undefined));
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
addChecks(app);
