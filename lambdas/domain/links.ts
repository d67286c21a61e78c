/** Links to the AWS console, shared by the notifications and the CLI. */

/** The Step Functions console page of an execution; its region is read from the ARN. */
export function executionConsoleUrl(executionArn: string): string {
  const region = executionArn.split(':')[3] || 'us-east-1';
  return `https://console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}
