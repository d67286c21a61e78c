import { Logger } from '@aws-lambda-powertools/logger';

/** The one structured logger of the Lambda code. Handlers append the deployment id and execution ARN once. */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'environment-controller',
});
