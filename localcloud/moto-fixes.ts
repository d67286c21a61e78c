/**
 * Corrections, on the handlers' clients, for places where moto 5.2.1 answers differently from AWS in ways that
 * would change a handler's decisions. Each is small, named, and applied only to the call it corrects.
 *
 * - CloudWatch DescribeAlarms: moto applies only the first of AlarmNames / AlarmNamePrefix / ActionPrefix /
 *   StateValue that is present, so `{ AlarmNames, StateValue: 'ALARM' }` returns the named alarms in every state.
 *   AWS applies them all: the answer is filtered by StateValue here.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';

interface AlarmLike {
  readonly StateValue?: string;
}

export function installMotoFixes(clients: { readonly cloudwatch: CloudWatchClient }): void {
  clients.cloudwatch.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (String(context.commandName).replace(/Command$/, '') !== 'DescribeAlarms') return result;
      const input = args.input as {
        StateValue?: string;
        AlarmNames?: string[];
        AlarmNamePrefix?: string;
        ActionPrefix?: string;
      };
      if (input.StateValue && (input.AlarmNames?.length || input.AlarmNamePrefix || input.ActionPrefix)) {
        const out = result.output as { MetricAlarms?: AlarmLike[]; CompositeAlarms?: AlarmLike[] };
        out.MetricAlarms = out.MetricAlarms?.filter((a) => a.StateValue === input.StateValue);
        out.CompositeAlarms = out.CompositeAlarms?.filter((a) => a.StateValue === input.StateValue);
      }
      return result;
    },
    { step: 'initialize', name: 'localcloudDescribeAlarmsStateFilter' },
  );
}
