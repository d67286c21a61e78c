/**
 * Metrics reader: the candidate's alarms and its target group's ALB metrics over a window.
 */
import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type CloudWatchClient,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { MetricSample } from '../domain/health';
import { awsCall } from './aws-call';

export interface MetricWindow {
  /** CloudWatch dimension values: `targetgroup/…` and `app/…`. */
  readonly targetGroup: string;
  readonly loadBalancer: string;
  readonly start: Date;
  readonly end: Date;
  /** e.g. `p99`. */
  readonly latencyStatistic: string;
}

export interface MetricsReader {
  alarmsInAlarm(alarmNames: readonly string[]): Promise<string[]>;
  sample(window: MetricWindow): Promise<MetricSample>;
}

export class CloudWatchMetricsReader implements MetricsReader {
  constructor(private readonly cloudwatch: CloudWatchClient) {}

  async alarmsInAlarm(alarmNames: readonly string[]): Promise<string[]> {
    const firing: string[] = [];
    for (let i = 0; i < alarmNames.length; i += 100) {
      const out = await awsCall(() =>
        this.cloudwatch.send(
          new DescribeAlarmsCommand({ AlarmNames: alarmNames.slice(i, i + 100), StateValue: 'ALARM' }),
        ),
      );
      // The filter is asked of the API and checked again here: an alarm counts only when its state says ALARM.
      for (const a of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (a.StateValue === 'ALARM') firing.push(a.AlarmName!);
      }
    }
    return firing;
  }

  async sample(w: MetricWindow): Promise<MetricSample> {
    const dims = [
      { Name: 'TargetGroup', Value: w.targetGroup },
      { Name: 'LoadBalancer', Value: w.loadBalancer },
    ];
    const query = (id: string, metricName: string, stat: string): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        Metric: { Namespace: 'AWS/ApplicationELB', MetricName: metricName, Dimensions: dims },
        Period: 60,
        Stat: stat,
      },
      ReturnData: true,
    });
    const out = await awsCall(() =>
      this.cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: w.start,
          EndTime: w.end,
          MetricDataQueries: [
            query('requests', 'RequestCount', 'Sum'),
            query('errors', 'HTTPCode_Target_5XX_Count', 'Sum'),
            query('latency', 'TargetResponseTime', w.latencyStatistic),
            query('unhealthy', 'UnHealthyHostCount', 'Maximum'),
            query('healthy', 'HealthyHostCount', 'Minimum'),
          ],
        }),
      ),
    );
    const values = (id: string) => out.MetricDataResults?.find((r) => r.Id === id)?.Values ?? [];
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const latency = values('latency');
    const unhealthy = values('unhealthy');
    const healthy = values('healthy');
    return {
      requests: sum(values('requests')),
      errors: sum(values('errors')),
      // TargetResponseTime is in seconds; the worst per-minute percentile of the window.
      latencyMs: latency.length ? Math.max(...latency) * 1000 : undefined,
      unhealthyHosts: unhealthy.length ? Math.max(...unhealthy) : undefined,
      healthyHosts: healthy.length ? Math.min(...healthy) : undefined,
    };
  }
}
