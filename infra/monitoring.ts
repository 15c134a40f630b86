/**
 * Alarms, the SNS topic they notify, and the CloudWatch dashboard.
 *
 * Everything per function, per source and per target is generated from lists, so a new
 * function (e.g. a sweep), a new PMS source or a new target gets its alarms and widgets by one
 * call (`monitorFunction`) or simply by being known to the code (`pmsTypes` and the `targets`
 * of the config schema): no edits here. Per source and target the lists are what the CODE
 * supports, not what the deploy-time config uses, so a config pushed later (`guest-sync config
 * push`) that starts using a target is already covered.
 */
import { CfnCondition, CfnParameter, Duration, Fn, type Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
  type IMetric,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnSubscription, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Namespace and the `service` dimension Powertools adds to every metric (POWERTOOLS_SERVICE_NAME). */
export const METRICS_NAMESPACE = 'GuestSync';
export const SERVICE_NAME = 'guest-sync';

const FIVE_MINUTES = Duration.minutes(5);

/** Threshold per alarm, in one place so the docs (docs/runbook.md) and tests can name them. */
export const ALARM_THRESHOLDS = {
  /** Any message in the DLQ: an event could not be processed at all. */
  deadLetterMessages: 1,
  /** The oldest queued event waited this long: sync is stuck or far behind. Retries back off up to 15 minutes. */
  oldestMessageAgeSeconds: 30 * 60,
  /** Any 5xx from the webhook API in 5 minutes: PMSs are retrying (or, for some, dropping) deliveries. */
  api5xx: 1,
  /** Any failed invocation of a function in 5 minutes. */
  functionErrors: 1,
  /** Any throttled invocation in 5 minutes. */
  functionThrottles: 1,
  /** Any permanent target failure in 5 minutes: a guest is not in the tool and will not be until the data changes. */
  targetPermanentFailures: 1,
  /** Any credential refusal by a target in 5 minutes: every sync to that target fails until the secret is fixed. */
  targetAuthFailures: 1,
  /** Any record of another person where ours would go (a shared email): an operator decides. */
  guestConflicts: 1,
  /** Records repaired at one target in a day: a few is a host's hand edit; more means something writes behind guest-sync. */
  driftRepairsPerDay: 5,
} as const;

export interface MonitoringProps {
  readonly stage: string;
  /** Every PMS type the code can ingest (a widget row each). */
  readonly sources: readonly string[];
  /** Every target the code can sync to (a widget row and alarms each). */
  readonly targets: readonly string[];
  /** A reservation behind on a target this long raises the target's lagging alarm. */
  readonly laggingAlarmMinutes: number;
}

export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarmEmail: CfnParameter;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];
  private readonly stage: string;
  private readonly sources: readonly string[];
  private readonly targets: readonly string[];
  private readonly laggingAlarmMinutes: number;

  constructor(scope: Stack, id: string, props: MonitoringProps) {
    super(scope, id);
    this.laggingAlarmMinutes = props.laggingAlarmMinutes;
    this.stage = props.stage;
    this.sources = props.sources;
    this.targets = props.targets;

    // ---- Where alarms go: one topic, and an email subscription when the parameter is given.
    // No KMS key: the topic carries alarm notifications only (names, values, thresholds), never
    // guest data, and CloudWatch cannot publish to a topic under the AWS-managed SNS key, so
    // encryption would cost a customer-managed key per stage for nothing sensitive. TLS only.
    this.topic = new Topic(this, 'AlarmTopic', {
      topicName: `guest-sync-${props.stage}-alarms`,
      displayName: `guest-sync ${props.stage} alarms`,
      enforceSSL: true,
    });
    this.alarmEmail = new CfnParameter(scope, 'AlarmEmail', {
      type: 'String',
      default: '',
      description: 'Email address subscribed to the alarm topic (confirm the subscription email AWS sends). Empty: no subscription.',
      allowedPattern: '^$|^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
      constraintDescription: 'an email address, or empty',
    });
    const hasEmail = new CfnCondition(this, 'HasAlarmEmail', {
      expression: Fn.conditionNot(Fn.conditionEquals(this.alarmEmail.valueAsString, '')),
    });
    const subscription = new CfnSubscription(this, 'AlarmEmailSubscription', {
      topicArn: this.topic.topicArn,
      protocol: 'email',
      endpoint: this.alarmEmail.valueAsString,
    });
    subscription.cfnOptions.condition = hasEmail;

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `guest-sync-${props.stage}` });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          `# guest-sync ${props.stage}\nWebhooks → ingest → SQS FIFO → sync → targets. Application metrics: namespace \`${METRICS_NAMESPACE}\`. ` +
          'What each alarm means and what to do: docs/runbook.md. Logs Insights queries: docs/logs-insights.md.',
        width: 18,
        height: 3,
      }),
      // Rendered at synth time, so it lists alarms added by later calls too.
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 6, height: 3 }),
    );
  }

  /** An alarm (>= threshold over one period) that notifies the topic; `runbookAnchor` is its section in docs/runbook.md. */
  alarm(id: string, metric: IMetric, threshold: number, description: string, runbookAnchor = id.toLowerCase(), treatMissingData = TreatMissingData.NOT_BREACHING): Alarm {
    const alarm = new Alarm(this, id, {
      alarmName: `guest-sync-${this.stage}-${id}`,
      alarmDescription: `${description} See docs/runbook.md#${runbookAnchor}.`,
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Counts of failures: no data means nothing happened, not a problem (levels pass IGNORE).
      treatMissingData,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  /** An application metric (EMF from Powertools) with the `service` dimension Powertools always adds. */
  appMetric(metricName: string, dimensions: Record<string, string> = {}, statistic = 'Sum', label?: string): Metric {
    return new Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: SERVICE_NAME, ...dimensions },
      statistic,
      period: FIVE_MINUTES,
      ...(label ? { label } : {}),
    });
  }

  /** Every series of a metric whatever its other dimensions (e.g. `reason`), via a SEARCH expression. */
  search(metricName: string, dimensionKeys: string[], filter: Record<string, string>, label: string): MathExpression {
    const schema = [METRICS_NAMESPACE, 'service', ...dimensionKeys].join(',');
    const filters = Object.entries(filter).map(([key, value]) => ` ${key}="${value}"`).join('');
    return new MathExpression({
      expression: `SEARCH('{${schema}} MetricName="${metricName}"${filters}', 'Sum', 300)`,
      label,
      period: FIVE_MINUTES,
    });
  }

  /** Errors and throttles alarms plus a widget for one function. Call it for every function the stack adds. */
  monitorFunction(label: string, fn: IFunction): void {
    const errors = fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' });
    const throttles = fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' });
    this.alarm(`${label}Errors`, errors, ALARM_THRESHOLDS.functionErrors, `The ${label.toLowerCase()} function failed whole invocations.`, 'function-errors');
    this.alarm(`${label}Throttles`, throttles, ALARM_THRESHOLDS.functionThrottles, `The ${label.toLowerCase()} function was throttled (account or reserved concurrency exhausted).`, 'function-throttles');
    this.dashboard.addWidgets(
      new GraphWidget({
        title: `${label} function`,
        left: [fn.metricInvocations({ period: FIVE_MINUTES, statistic: 'Sum' }), errors, throttles],
        right: [fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99' }), fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p50' })],
        width: 12,
      }),
    );
  }

  /** One row of widgets per PMS source: deliveries and their outcome, fetch-back failures, unrouted reservations. */
  addSourceWidgets(): void {
    const widgets: IWidget[] = this.sources.map(
      (source) =>
        new GraphWidget({
          title: `Source: ${source}`,
          // Each delivery is counted once, by its outcome; stacked, they show what was received.
          left: [
            this.appMetric('WebhookAccepted', { source }, 'Sum', 'accepted'),
            this.search('WebhookIgnored', ['source', 'reason'], { source }, 'ignored:'),
            this.search('WebhookRejected', ['source', 'reason'], { source }, 'rejected:'),
            this.appMetric('WebhookFailed', { source }, 'Sum', 'failed (5xx)'),
          ],
          stacked: true,
          right: [this.appMetric('FetchFailed', { source }, 'Sum', 'fetch-back failed'), this.appMetric('ReservationUnrouted', { source }, 'Sum', 'unrouted')],
          width: 12,
        }),
    );
    this.dashboard.addWidgets(...widgets);
  }

  /** Per target: outcomes and latency widgets, plus the permanent-failure and auth-failure alarms. */
  addTargetWidgetsAndAlarms(): void {
    const widgets: IWidget[] = [];
    for (const target of this.targets) {
      // No label on alarm metrics: a label turns an alarm into a metric-math alarm.
      const permanent = this.appMetric('TargetFailedPermanent', { target });
      const auth = this.appMetric('TargetAuthFailure', { target });
      const id = target.charAt(0).toUpperCase() + target.slice(1);
      this.alarm(`${id}PermanentFailures`, permanent, ALARM_THRESHOLDS.targetPermanentFailures, `${target} refused a guest permanently (4xx other than 429): that guest is missing there.`, 'target-permanent-failures');
      this.alarm(`${id}AuthFailures`, auth, ALARM_THRESHOLDS.targetAuthFailures, `${target} refused guest-sync's credentials: syncs to it fail until the secret is fixed.`, 'target-auth-failures');
      // A level sync reports on each attempt at the target (0 once it holds what it should). Between
      // attempts (backoff, a parked retry) there is no data: the alarm keeps its state until the
      // next attempt says otherwise.
      const behind = this.appMetric('TargetBehindSeconds', { target }, 'Maximum').with({ period: Duration.minutes(15) });
      this.alarm(`${id}Lagging`, behind, this.laggingAlarmMinutes * 60, `A reservation has been behind on ${target} for ${this.laggingAlarmMinutes} minutes or more (retrying or parked): list them with guest-sync status --lagging.`, 'lagging', TreatMissingData.IGNORE);
      const drift = this.appMetric('DriftRepaired', { target }).with({ period: Duration.days(1) });
      this.alarm(`${id}Drift`, drift, ALARM_THRESHOLDS.driftRepairsPerDay, `Reconciliation repaired ${ALARM_THRESHOLDS.driftRepairsPerDay} or more ${target} records in a day (deleted, edited or cancelled behind guest-sync): find who writes there.`, 'drift');
      const conflicts = this.appMetric('GuestConflict', { target });
      this.alarm(`${id}GuestConflicts`, conflicts, ALARM_THRESHOLDS.guestConflicts, `${target} holds another person's record where ours would go (e.g. a shared email): ours was not created and theirs was left untouched.`, 'guest-conflicts');
      widgets.push(
        new GraphWidget({
          title: `Target: ${target}`,
          left: [
            this.search('TargetSynced', ['target', 'action'], { target }, 'synced:'),
            this.appMetric('TargetSkipped', { target }, 'Sum', 'skipped (unchanged)'),
            this.appMetric('TargetFailedRetryable', { target }, 'Sum', 'failed (retryable)'),
            permanent.with({ label: 'failed (permanent)' }),
            this.appMetric('TargetRateLimited', { target }, 'Sum', '429s'),
            auth.with({ label: 'auth failures' }),
            this.appMetric('TargetPaused', { target }, 'Sum', 'paused (circuit open)'),
            conflicts.with({ label: 'guest conflicts (not adopted)' }),
            this.appMetric('TargetSkippedStale', { target }, 'Sum', 'older snapshot skipped'),
            this.appMetric('DriftRepaired', { target }, 'Sum', 'drift repaired (reconcile)'),
          ],
          right: [this.appMetric('TargetLatency', { target }, 'p50', 'latency p50 (ms)'), this.appMetric('TargetLatency', { target }, 'p99', 'latency p99 (ms)')],
          width: 12,
        }),
      );
    }
    this.dashboard.addWidgets(...widgets);
  }
}
